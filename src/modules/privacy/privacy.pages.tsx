import { t } from '../../i18n/i18n.ts';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { Layout } from '../../views/layout.tsx';
import { sendSharedPage } from '../../views/pages.tsx';

/** How signers' personal data is used: what a signer reads before trusting us with it. */
export function registerPrivacyPage(app: FastifyInstance, ctx: AppContext): void {
  app.get('/privacy', async (request, reply) => {
    const site = ctx.config.siteName;
    // Linked from the signing form, so read by signers in a crowd too: the same for everyone not
    // signed in, rendered once a moment like the petition page.
    // (A signed-in visitor's copy has their menu and sign-out form: theirs alone.)
    reply.header('cache-control', request.user ? 'private, no-store' : 'public, max-age=3600');
    return sendSharedPage(ctx, request, reply, '/privacy', (pageCtx) => () => (
      <Layout ctx={pageCtx} title={t('layout.privacy')}>
        <h1>{t('privacy.heading')}</h1>
        <h2>{t('privacy.collect')}</h2>
        <ul>
          <li>{t('privacy.collect_details')}</li>
          <li>{t('privacy.collect_choices')}</li>
        </ul>
        <h2>{t('privacy.why')}</h2>
        <ul>
          <li>{t('privacy.why_email')}</li>
          <li>{t('privacy.why_postcode')}</li>
          <li>{t('privacy.why_name')}</li>
          <li>{t('privacy.why_updates')}</li>
        </ul>
        <h2>{t('privacy.who')}</h2>
        <p>{t('privacy.who_detail', { site })}</p>
        <h2>{t('privacy.rights')}</h2>
        <ul>
          <li>{t('privacy.rights_remove')}</li>
          <li>{t('privacy.rights_unsubscribe')}</li>
          <li>{t('privacy.rights_copy')}</li>
        </ul>
      </Layout>
    ));
  });
}
