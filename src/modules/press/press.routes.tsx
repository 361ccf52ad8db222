import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, formatDate, TextField } from '../../views/components.tsx';
import { formParts } from '../../views/forms.ts';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { requireApiUser, requirePageUser } from '../auth/auth.plugin.ts';
import { SlugParams } from '../petitions/petitions.schema.ts';
import type { User } from '../users/users.service.ts';
import type { PressLink } from './press.repository.ts';
import { PressInput, PressOutput } from './press.service.ts';

const LABELS = { outlet: 'Outlet', headline: 'Headline', date: 'Date', url: 'Web address' };
const output = (l: PressLink) => ({ id: l.id, outlet: l.outlet, headline: l.headline, date: l.publishedOn, url: l.url });

/** "In the news": the team's page to keep the links, and the JSON API (`…/press`). */
export function registerPressRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { press, petitions } = ctx.services;

  const show = async (request: FastifyRequest, reply: FastifyReply, user: User, slug: string, values: Record<string, string> = {}, errors: FieldErrors = {}, status = 200) => {
    const view = await petitions.viewFor(slug, user);
    if (!petitions.can(view, 'campaign')) throw new AppError('forbidden', 'Only the petition’s owners and editors can manage press links.');
    const links = await press.list(view.petition);
    const base = `/petitions/${encodeURIComponent(view.petition.slug)}`;
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={`In the news: ${view.petition.title}`}>
        <p>
          <a href={base}>← {view.petition.title}</a>
        </p>
        <h1>In the news</h1>
        <ul class="manage-list">
          {links.map((l) => (
            <li>
              <a href={l.url} rel="nofollow noopener">
                {l.headline}
              </a>{' '}
              — {l.outlet}, {formatDate(`${l.publishedOn}T12:00:00Z`, ctx.config.timeZone)}
              <form method="post" action={`${base}/press/${l.id}/delete`} class="inline-action">
                <CsrfField token={reply.generateCsrf()} />
                <button type="submit" class="button button-secondary">
                  Remove<span class="visually-hidden"> {l.headline}</span>
                </button>
              </form>
            </li>
          ))}
        </ul>
        <h2>Add a link</h2>
        <ErrorSummary errors={errors} labels={LABELS} />
        <form method="post" action={`${base}/press`} novalidate>
          <CsrfField token={reply.generateCsrf()} />
          <TextField name="outlet" label={LABELS.outlet} hint="e.g. BBC London News" value={values.outlet} error={errors.outlet} maxlength={120} required />
          <TextField name="headline" label={LABELS.headline} value={values.headline} error={errors.headline} maxlength={300} required />
          <TextField name="date" label={LABELS.date} type="date" value={values.date} error={errors.date} required />
          <TextField name="url" label={LABELS.url} type="url" value={values.url} error={errors.url} maxlength={1000} required />
          <button type="submit" class="button button-primary">
            Add link
          </button>
        </form>
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page, status);
  };

  app.get('/petitions/:slug/press', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    return show(request, reply, user, (request.params as { slug: string }).slug);
  });

  app.post('/petitions/:slug/press', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const { fields } = formParts(request.body);
    try {
      await press.add(user, slug, fields);
      return reply.redirect(`/petitions/${encodeURIComponent(slug)}/press`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return show(request, reply, user, slug, fields, err.fields, 422);
    }
  });

  app.post('/petitions/:slug/press/:id/delete', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug, id } = request.params as { slug: string; id: string };
    await press.remove(user, slug, Number(id) || 0);
    return reply.redirect(`/petitions/${encodeURIComponent(slug)}/press`, 303);
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  const url = '/api/v1/petitions/:slug/press';
  const IdParams = SlugParams.extend({ id: z.coerce.number().int().positive() });
  api.get(url, { schema: { params: SlugParams, response: { 200: z.object({ data: z.array(PressOutput) }) } } }, async (request) => {
    const viewer = request.headers.authorization ? await requireApiUser(ctx, request) : null;
    return { data: (await press.list(await petitions.getForViewer(request.params.slug, viewer))).map(output) };
  });
  api.post(url, { schema: { params: SlugParams, body: PressInput, response: { 201: z.object({ data: PressOutput }) } } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    return reply.status(201).send({ data: output(await press.add(user, request.params.slug, request.body ?? {})) });
  });
  api.patch(`${url}/:id`, { schema: { params: IdParams, body: PressInput, response: { 200: z.object({ data: PressOutput }) } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    return { data: output(await press.edit(user, request.params.slug, request.params.id, request.body ?? {})) };
  });
  api.delete(`${url}/:id`, { schema: { params: IdParams } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    await press.remove(user, request.params.slug, request.params.id);
    return reply.status(204).send();
  });

  api.get('/api/v1/petitions/:slug/milestones', {
    schema: { params: SlugParams, response: { 200: z.object({ data: z.array(z.object({ kind: z.enum(['count', 'goal', 'response', 'debate']), threshold: z.number().int(), reached_at: z.string() })) }) } },
  }, async (request) => {
    const viewer = request.headers.authorization ? await requireApiUser(ctx, request) : null;
    const petition = await petitions.getForViewer(request.params.slug, viewer);
    return { data: (await ctx.services.milestones.list(petition)).map((m) => ({ kind: m.kind, threshold: m.threshold, reached_at: m.reachedAt })) };
  });
}
