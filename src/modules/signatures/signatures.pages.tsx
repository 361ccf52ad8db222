import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../lib/errors.ts';
import { CsrfField, SignatureProgress } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext, sendSharedPage } from '../../views/pages.tsx';
import { localisedPageKey } from '../../views/page-cache.ts';
import { renderTemplate, sendPage, sendTemplate } from '../../views/render.ts';
import { ShareLinks } from '../../views/share.tsx';
import { renderPetitionPage } from '../petitions/petitions.pages.tsx';
import type { Petition } from '../petitions/petitions.service.ts';
import { SIGN_RATE_LIMIT } from './signatures.api.ts';
import type { SignFormValues } from './sign-form.tsx';
import { t } from '../../i18n/i18n.ts';
import { openInPetitionLanguage, petitionText } from '../petitions/petition-text.ts';

const CheckEmailPage = (p: { ctx: PageContext; petition: Petition; minutesBehind: number }) => {
  const { title } = petitionText(p.petition);
  return (
    <Layout ctx={p.ctx} title={t('signed.check_email')}>
      <h1>{t('signed.check_email')}</h1>
      <p>
        {t('signed.sent_link')} <strong>{t('signed.not_counted_until')}</strong>
      </p>
      <p>
        {t('signed.petition')}{' '}
        {p.petition.state === 'pending' ? title : <a href={`/petitions/${encodeURIComponent(p.petition.slug)}`}>{title}</a>}
      </p>
      {p.minutesBehind >= EMAILS_LATE_MINUTES ? (
        <p class="notice" role="status">
          {t('signed.emails_behind', { minutes: p.minutesBehind })}
        </p>
      ) : null}
      <h2>{t('signed.no_email')}</h2>
      <ul>
        <li>{t('signed.no_email_wait')}</li>
        <li>{t('signed.no_email_typo')}</li>
        <li>{t('signed.no_email_already')}</li>
      </ul>
    </Layout>
  );
};

/** From how many minutes behind the workers are a signer is told their email is running late. */
const EMAILS_LATE_MINUTES = 2;

const TOKEN_PLACEHOLDER = '__undersign_confirmation_token__';
const CSRF_PLACEHOLDER = '__undersign_csrf_token__';

const ConfirmedPage = (p: { ctx: PageContext; petition: Petition; url: string; accepted: boolean }) => {
  const { title } = petitionText(p.petition);
  return (
    <Layout ctx={p.ctx} title={p.accepted ? t('confirmed.thank_you') : t('confirmed.closed')} canonicalUrl={p.petition.state === 'pending' ? undefined : p.url}>
      {p.accepted && p.petition.state === 'pending' ? (
        <>
          <h1>{t('confirmed.thank_you_support')}</h1>
          <p class="lead">{t('confirmed.supporter_confirmed')}</p>
          <p>{t('confirmed.supporter_kept')}</p>
        </>
      ) : p.accepted ? (
        <>
          <h1>{t('confirmed.thank_you')}</h1>
          <p class="lead">{t('confirmed.counted')}</p>
        </>
      ) : (
        <>
          <h1>{t('confirmed.closed')}</h1>
          <p class="lead">{t('confirmed.closed_detail')}</p>
        </>
      )}
      {p.petition.state === 'pending' ? (
        <p>{title}</p>
      ) : (
        <p>
          <a href={`/petitions/${encodeURIComponent(p.petition.slug)}`}>{title}</a>
        </p>
      )}
      <SignatureProgress count={p.petition.signatureCount} goal={p.petition.goal} />
      {p.accepted && p.petition.state !== 'pending' ? (
        <>
          <p>{t('confirmed.share')}</p>
          <ShareLinks url={p.url} title={title} />
        </>
      ) : null}
    </Layout>
  );
};

function formValues(body: Record<string, unknown>): SignFormValues {
  const values: SignFormValues = {};
  for (const key of ['name', 'email', 'postcode', 'country', 'public_name', 'contact_opt_in', 'support_token', 'website', 'form_started', 'challenge', 'challenge_answer'] as const) {
    const v = body[key];
    if (typeof v === 'string') values[key] = v;
  }
  return values;
}

export function registerSignaturePages(app: FastifyInstance, ctx: AppContext): void {
  const { petitions, signatures } = ctx.services;

  app.post(
    '/petitions/:slug/sign',
    { config: { csrf: true, rateLimit: SIGN_RATE_LIMIT, keepsPublicPage: true } },
    async (request, reply) => {
      const { slug } = request.params as { slug: string };
      const values = formValues((request.body ?? {}) as Record<string, unknown>);
      try {
        // A bot is told "check your email" like everyone else, and nothing is recorded.
        if (!signatures.looksAutomated(values, ctx.config.signMinSeconds)) await signatures.recordSignature(slug, values, { ip: request.ip, language: request.language });
        const support = values.support_token ? `?support=${encodeURIComponent(values.support_token)}` : '';
        return reply.redirect(`/petitions/${encodeURIComponent(slug)}/signed${support}`, 303);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // The page the form was on: the public one, or the supporters' one for a submitted petition.
        const supportToken = values.support_token;
        const signingView = async () =>
          supportToken ? { petition: await petitions.petitionForSigning(slug, supportToken), actor: null } : await petitions.viewFor(slug, request.user);
        if (err.code === 'validation_failed') {
          return renderPetitionPage(ctx, request, reply, await signingView(), { signValues: values, signErrors: err.fields, status: 422, supportToken });
        }
        if (err.code === 'petition_closed') {
          const view = await petitions.viewFor(slug, request.user);
          return renderPetitionPage(ctx, request, reply, view, { notice: err.message, status: 409 });
        }
        if (err.code === 'service_unavailable' || err.code === 'rate_limited') {
          // Too busy, or too many from one place: the form comes back as filled in, with when to try again.
          if (err.retryAfterSeconds !== null) reply.header('retry-after', String(err.retryAfterSeconds));
          return renderPetitionPage(ctx, request, reply, await signingView(), { signValues: values, notice: err.message, status: err.status, supportToken });
        }
        throw err;
      }
    },
  );

  app.get('/petitions/:slug/signed', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const { support } = request.query as { support?: unknown };
    const supported = typeof support === 'string' ? await petitions.petitionForSigning(slug, support).catch(() => null) : null;
    // Every signer through the form comes here: the petition is read once a moment for all of them.
    const petition = supported ?? (await petitions.recentPublic(slug));
    openInPetitionLanguage(request, petition);
    reply.header('x-robots-tag', 'noindex');
    const page = async (context: PageContext) => <CheckEmailPage ctx={context} petition={petition} minutesBehind={await ctx.services.jobs.minutesBehind()} />;
    if (supported) return sendPage(reply, await page(await pageContext(ctx, request, reply)));
    // Every signer through the form comes to this page: those of one petition in the same moment
    // see it alike, rendered once (like the petition page) instead of once a signer.
    return sendSharedPage(ctx, request, reply, `/petitions/${encodeURIComponent(petition.slug)}/signed`, page);
  });

  app.get('/signatures/remove', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const value = typeof token === 'string' ? token : '';
    const valid = signatures.removalTokens.verify(value) !== null;
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={t('remove.title')}>
        <h1>{t('remove.title')}</h1>
        {valid ? (
          <form method="post" action="/signatures/remove">
            <CsrfField token={reply.generateCsrf()} />
            <input type="hidden" name="token" value={value} />
            <p>{t('remove.explain')}</p>
            <button type="submit" class="button button-primary">
              {t('remove.button')}
            </button>
          </form>
        ) : (
          <p>{t('remove.invalid')}</p>
        )}
      </Layout>
    );
    return sendPage(reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').header('x-robots-tag', 'noindex'), page, valid ? 200 : 404);
  });

  app.post('/signatures/remove', { config: { csrf: true } }, async (request, reply) => {
    const token = (request.body as { token?: unknown } | undefined)?.token;
    const petition = await signatures.removeSignature(typeof token === 'string' ? token : '');
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={t('remove.done_title')}>
        <h1>{t('remove.done_heading')}</h1>
        <p>{t('remove.done', { title: petitionText(petition).title })}</p>
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'no-store'), page);
  });

  app.get('/signatures/confirm', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const result = await signatures.confirmSignature(typeof token === 'string' ? token : '');
    reply.header('x-robots-tag', 'noindex').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const accepted = result.status !== 'petition_closed';
    const status = accepted ? 200 : 409;
    const render = (context: PageContext) => <ConfirmedPage ctx={context} petition={result.petition} url={petitions.urlFor(result.petition)} accepted={accepted} />;
    if (request.user) return sendPage(reply, render(await pageContext(ctx, request, reply)), status);
    // Everyone confirming for one petition in the same moment sees the same page but for their
    // link (in the language switch): one render per interval, like the public petition page.
    const key = localisedPageKey(request, `confirmed:${result.petition.id}:${result.status}`);
    const template = await ctx.services.pageCache.template(key, async () => {
      const context = { ...(await pageContext(ctx, request, reply, { csrfToken: CSRF_PLACEHOLDER })), path: `/signatures/confirm?token=${TOKEN_PLACEHOLDER}` };
      return renderTemplate(request, render(context), [TOKEN_PLACEHOLDER, CSRF_PLACEHOLDER]);
    });
    return sendTemplate(reply, template, {
      [TOKEN_PLACEHOLDER]: encodeURIComponent(typeof token === 'string' ? token : ''),
      ...(template.hasHole(CSRF_PLACEHOLDER) ? { [CSRF_PLACEHOLDER]: reply.generateCsrf() } : {}),
    }, status);
  });
}
