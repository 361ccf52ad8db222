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
    const page = (
      <Layout ctx={await pageContext(ctx, request, reply)} title="Unsubscribe">
        <h1>Stop emails about this campaign</h1>
        {valid ? (
          <form method="post" action={`/unsubscribe/${encodeURIComponent(token)}`}>
            <p>You will no longer receive updates about this petition. Your signature still counts.</p>
            <button type="submit" class="button button-primary">
              Unsubscribe
            </button>
          </form>
        ) : (
          <p>This unsubscribe link is not valid. Check that you copied the whole link from the email.</p>
        )}
      </Layout>
    );
    return sendPage(reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store'), page, valid ? 200 : 404);
  });

  app.post('/unsubscribe/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const petition = await ctx.services.broadcasts.unsubscribe(token);
    const page = (
      <Layout ctx={await pageContext(ctx, request, reply)} title="Unsubscribed">
        <h1>{petition ? 'You are unsubscribed' : 'This link is not valid'}</h1>
        {petition ? (
          <p>
            You will not receive more emails about “{petition.title}”. Your signature still counts.
          </p>
        ) : (
          <p>Check that you copied the whole link from the email.</p>
        )}
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'no-store'), page, petition ? 200 : 404);
  });
}
