import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, TextField } from '../../views/components.tsx';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { requireApiUser, requirePageUser } from '../auth/auth.plugin.ts';
import type { User } from '../users/users.service.ts';
import { WEBHOOK_EVENTS } from './events.ts';
import type { DeliveryRow, WebhookRow } from './webhooks.repository.ts';
import { WebhookInput } from './webhooks.service.ts';

const WebhookOutput = z.object({
  id: z.number().int(),
  url: z.string(),
  events: z.array(z.string()),
  petition: z.string().nullable(),
  include_personal_data: z.boolean(),
  created_at: z.string(),
  secret: z.string().optional(),
  recent_deliveries: z.array(z.object({ id: z.number().int(), event: z.string(), status: z.string(), attempts: z.number().int(), response_status: z.number().int().nullable(), error: z.string().nullable() })).optional(),
});

/** Webhooks: the API (`/api/v1/webhooks`) and the owner's page for a petition. */
export function registerWebhookRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { webhooks } = ctx.services;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const output = async (w: WebhookRow, deliveries?: DeliveryRow[], secret = false): Promise<z.infer<typeof WebhookOutput>> => ({
    id: w.id,
    url: w.url,
    events: JSON.parse(w.events) as string[],
    petition: w.petition_id ? ((await ctx.services.petitions.getById(w.petition_id))?.slug ?? null) : null,
    include_personal_data: w.include_personal_data === 1,
    created_at: w.created_at,
    ...(secret ? { secret: w.secret } : {}),
    ...(deliveries ? { recent_deliveries: deliveries.map((d) => ({ id: d.id, event: d.event, status: d.status, attempts: d.attempts, response_status: d.response_status, error: d.error })) } : {}),
  });

  api.post('/api/v1/webhooks', { schema: { body: WebhookInput, response: { 201: z.object({ data: WebhookOutput }) } } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    const created = await webhooks.create(user, request.body);
    // The signing secret is shown this once.
    return reply.status(201).send({ data: await output(created, undefined, true) });
  });

  api.get('/api/v1/webhooks', { schema: { querystring: z.object({ petition: z.string().max(200).optional() }), response: { 200: z.object({ data: z.array(WebhookOutput) }) } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    const list = await webhooks.list(user, request.query.petition ?? null);
    return { data: await Promise.all(list.map((l) => output(l.webhook, l.deliveries))) };
  });

  api.delete('/api/v1/webhooks/:id', { schema: { params: z.object({ id: z.coerce.number().int().positive() }) } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    await webhooks.remove(user, request.params.id);
    return reply.status(204).send();
  });

  api.post('/api/v1/webhooks/:id/test', { schema: { params: z.object({ id: z.coerce.number().int().positive() }) } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    const deliveryId = await webhooks.sendTest(user, request.params.id);
    return reply.status(202).send({ data: { delivery: deliveryId } });
  });

  /** A petition's webhooks (`slug`), or the site-wide ones for admins (`slug` null). */
  const show = async (request: FastifyRequest, reply: FastifyReply, user: User, slug: string | null, extra: { values?: Record<string, string>; errors?: FieldErrors; secret?: string; status?: number } = {}) => {
    const list = await webhooks.list(user, slug);
    const base = webhooksBase(slug);
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={slug ? 'Webhooks' : 'Site-wide webhooks'}>
        <p>{slug ? <a href={`/petitions/${encodeURIComponent(slug)}`}>← Back to the petition</a> : <a href="/admin">← Moderation</a>}</p>
        <h1>{slug ? 'Webhooks' : 'Site-wide webhooks'}</h1>
        <p>
          {slug ? 'Tell your other tools (a CRM, a chat channel) when something happens to this petition.' : 'Tell other tools when something happens to any petition on the site.'} Every call is
          signed with HMAC-SHA256 in the Undersign-Signature header.
        </p>
        {extra.secret ? (
          <div class="banner banner-notice" role="alert">
            <p>
              Signing secret (shown only now): <code>{extra.secret}</code>
            </p>
          </div>
        ) : null}
        <ul class="manage-list">
          {list.map(({ webhook, deliveries }) => (
            <li>
              <strong>{webhook.url}</strong> — {(JSON.parse(webhook.events) as string[]).join(', ')}
              {webhook.include_personal_data ? ' (with signers’ details)' : ''}
              <ul>
                {deliveries.map((d) => (
                  <li>
                    {d.event}: {d.status}
                    {d.response_status ? ` (${d.response_status})` : ''}
                    {d.error ? ` — ${d.error}` : ''}
                  </li>
                ))}
              </ul>
              <form method="post" action={`${base}/${webhook.id}/test`} class="inline-action">
                <CsrfField token={reply.generateCsrf()} />
                <button type="submit" class="button button-secondary">
                  Send test event
                </button>
              </form>
              <form method="post" action={`${base}/${webhook.id}/delete`} class="inline-action">
                <CsrfField token={reply.generateCsrf()} />
                <button type="submit" class="button button-secondary">
                  Remove
                </button>
              </form>
            </li>
          ))}
        </ul>
        <h2>Add a webhook</h2>
        <ErrorSummary errors={extra.errors ?? {}} labels={{ url: 'Address', events: 'Events' }} />
        <form method="post" action={base} novalidate>
          <CsrfField token={reply.generateCsrf()} />
          <TextField name="url" label="Address" hint="https://…" type="url" value={extra.values?.url} error={extra.errors?.url} required />
          <fieldset>
            <legend>Events</legend>
            {WEBHOOK_EVENTS.map((event) => (
              <div class="checkbox">
                <input id={`f-event-${event}`} name="events" type="checkbox" value={event} />
                <label for={`f-event-${event}`}>{event}</label>
              </div>
            ))}
          </fieldset>
          <div class="checkbox">
            <input id="f-include_personal_data" name="include_personal_data" type="checkbox" value="on" />
            <label for="f-include_personal_data">Include signers’ names and emails in signature events</label>
          </div>
          <button type="submit" class="button button-primary">
            Add webhook
          </button>
        </form>
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page, extra.status ?? 200);
  };

  app.get('/admin/webhooks', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    return show(request, reply, user, null);
  });

  app.get('/petitions/:slug/webhooks', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    return show(request, reply, user, (request.params as { slug: string }).slug);
  });

  const add = async (request: FastifyRequest, reply: FastifyReply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const slug = (request.params as { slug?: string }).slug ?? null;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const events = [body.events].flat().filter((e): e is string => typeof e === 'string');
    try {
      const created = await webhooks.create(user, { url: body.url, events, ...(slug ? { petition: slug } : {}), include_personal_data: body.include_personal_data === 'on' });
      return show(request, reply, user, slug, { secret: created.secret, status: 201 });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return show(request, reply, user, slug, { values: { url: typeof body.url === 'string' ? body.url : '' }, errors: err.fields, status: 422 });
    }
  };
  app.post('/petitions/:slug/webhooks', { config: { csrf: true } }, add);
  app.post('/admin/webhooks', { config: { csrf: true } }, add);

  for (const action of ['test', 'delete'] as const) {
    const run = async (request: FastifyRequest, reply: FastifyReply) => {
      const user = requirePageUser(request, reply);
      if (!user) return reply;
      const { slug, id } = request.params as { slug?: string; id: string };
      if (action === 'test') await webhooks.sendTest(user, Number(id) || 0);
      else await webhooks.remove(user, Number(id) || 0);
      return reply.redirect(webhooksBase(slug ?? null), 303);
    };
    app.post(`/petitions/:slug/webhooks/:id/${action}`, { config: { csrf: true } }, run);
    app.post(`/admin/webhooks/:id/${action}`, { config: { csrf: true } }, run);
  }
}

function webhooksBase(slug: string | null): string {
  return slug ? `/petitions/${encodeURIComponent(slug)}/webhooks` : '/admin/webhooks';
}
