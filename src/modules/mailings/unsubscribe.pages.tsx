import { t } from '../../i18n/i18n.ts';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';

/**
 * Unsubscribing needs no account and no password: the signed link in every campaign email is
 * enough. Mail programs use the one-click POST of RFC 8058, which carries no CSRF token; the
 * link's signature is the authorisation, and the worst a forged request could do is unsubscribe.
 */
export function registerUnsubscribePages(app: FastifyInstance, ctx: AppContext): void {
  app.get('/unsubscribe/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const valid = ctx.services.broadcasts.unsubscribeTokens.verify(token) !== null;
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={t('unsubscribe.title')}>
        <h1>{t('unsubscribe.heading')}</h1>
        {valid ? (
          <form method="post" action={`/unsubscribe/${encodeURIComponent(token)}`}>
            <p>{t('unsubscribe.explain')}</p>
            <button type="submit" class="button button-primary">
              {t('unsubscribe.button')}
            </button>
          </form>
        ) : (
          <p>{t('unsubscribe.invalid')}</p>
        )}
      </Layout>
    );
    return sendPage(reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store'), page, valid ? 200 : 404);
  });

  app.post('/unsubscribe/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const petition = await ctx.services.broadcasts.unsubscribe(token);
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={t('unsubscribe.done_title')}>
        <h1>{petition ? t('unsubscribe.done') : t('unsubscribe.link_invalid')}</h1>
        {petition ? <p>{t('unsubscribe.done_detail', { title: petition.title })}</p> : <p>{t('unsubscribe.check_link')}</p>}
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'no-store'), page, petition ? 200 : 404);
  });
}
