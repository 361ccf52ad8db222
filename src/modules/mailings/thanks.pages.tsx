import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, formatDate, formatNumber, TextArea, TextField } from '../../views/components.tsx';
import { formParts } from '../../views/forms.ts';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { requirePageUser } from '../auth/auth.plugin.ts';
import type { User } from '../users/users.service.ts';

/** "Thank your signers": a message to everyone who agreed to hear from the campaign, and its progress. */
export function registerThanksPages(app: FastifyInstance, ctx: AppContext): void {
  const { broadcasts, petitions } = ctx.services;

  const show = async (request: FastifyRequest, reply: FastifyReply, user: User, slug: string, values: Record<string, string> = {}, errors: FieldErrors = {}, status = 200) => {
    const view = await petitions.viewFor(slug, user);
    if (!petitions.can(view, 'campaign')) throw new AppError('forbidden', 'Only the petition’s owners and editors can write to signers.');
    const sent = (await broadcasts.listForPetition(view.petition.id)).filter((b) => b.kind === 'thanks');
    const recipients = await ctx.repositories.signatures.countContactable(view.petition.id);
    const base = `/petitions/${encodeURIComponent(view.petition.slug)}`;
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={`Thank your signers: ${view.petition.title}`}>
        <p>
          <a href={base}>← {view.petition.title}</a>
        </p>
        <h1>Thank your signers</h1>
        <p>
          Your message goes to the {formatNumber(recipients)} {recipients === 1 ? 'signer' : 'signers'} who agreed to hear from the campaign,
          each once, with a one-click unsubscribe link.
        </p>
        <ErrorSummary errors={errors} labels={{ subject: 'Subject', message: 'Message' }} />
        <form method="post" action={`${base}/thanks`} novalidate>
          <CsrfField token={p(reply)} />
          <TextField name="subject" label="Subject" value={values.subject ?? `Thank you for signing “${view.petition.title}”`} error={errors.subject} maxlength={150} required />
          <TextArea name="message" label="Message" hint="Markdown works: **bold**, [links](https://example.org)." rows={10} value={values.message} error={errors.message} maxlength={20000} required />
          <button type="submit" class="button button-primary">
            Send to {formatNumber(recipients)} {recipients === 1 ? 'signer' : 'signers'}
          </button>
        </form>
        {sent.length ? (
          <>
            <h2>Sent before</h2>
            <ul>
              {sent.map((b) => (
                <li>
                  {formatDate(b.createdAt, ctx.config.timeZone)}: “{b.subject}” — {b.finishedAt ? `sent to ${formatNumber(b.sent)}` : `${formatNumber(b.sent)} of ${formatNumber(b.total)} sent so far`}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page, status);
  };
  const p = (reply: FastifyReply) => reply.generateCsrf();

  app.get('/petitions/:slug/thanks', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    return show(request, reply, user, (request.params as { slug: string }).slug);
  });

  app.post('/petitions/:slug/thanks', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const { fields } = formParts(request.body);
    try {
      await broadcasts.sendThanks(user, slug, fields);
      return reply.redirect(`/petitions/${encodeURIComponent(slug)}/thanks`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return show(request, reply, user, slug, fields, err.fields, 422);
    }
  });
}
