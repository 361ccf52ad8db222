import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../lib/errors.ts';
import { CsrfField, SignatureProgress } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { ShareLinks } from '../../views/share.tsx';
import { renderPetitionPage } from '../petitions/petitions.pages.tsx';
import type { Petition } from '../petitions/petitions.service.ts';
import { SIGN_RATE_LIMIT } from './signatures.api.ts';
import type { SignFormValues } from './sign-form.tsx';

const CheckEmailPage = (p: { ctx: PageContext; petition: Petition }) => (
  <Layout ctx={p.ctx} title="Check your email">
    <h1>Check your email</h1>
    <p>
      We have sent you an email with a link. <strong>Your signature is not counted until you follow that link.</strong>
    </p>
    <p>
      Petition:{' '}
      {p.petition.state === 'pending' ? p.petition.title : <a href={`/petitions/${encodeURIComponent(p.petition.slug)}`}>{p.petition.title}</a>}
    </p>
    <h2>No email?</h2>
    <ul>
      <li>It can take a few minutes to arrive. Check your spam or junk folder.</li>
      <li>If you typed your address wrongly, sign again with the right one.</li>
      <li>If you have already confirmed, there is nothing more to do: each address counts once.</li>
    </ul>
  </Layout>
);

const ConfirmedPage = (p: { ctx: PageContext; petition: Petition; url: string; accepted: boolean }) => (
  <Layout ctx={p.ctx} title={p.accepted ? 'Thank you for signing' : 'This petition has closed'} canonicalUrl={p.petition.state === 'pending' ? undefined : p.url}>
    {p.accepted && p.petition.state === 'pending' ? (
      <>
        <h1>Thank you for your support</h1>
        <p class="lead">Your signature is confirmed. Once the petition has enough supporters, a moderator checks it and publishes it.</p>
        <p>Your signature is kept and counts in the final total.</p>
      </>
    ) : p.accepted ? (
      <>
        <h1>Thank you for signing</h1>
        <p class="lead">Your signature is confirmed and counted.</p>
      </>
    ) : (
      <>
        <h1>This petition has closed</h1>
        <p class="lead">The petition closed before your signature was confirmed, so it could not be counted.</p>
      </>
    )}
    {p.petition.state === 'pending' ? (
      <p>{p.petition.title}</p>
    ) : (
      <p>
        <a href={`/petitions/${encodeURIComponent(p.petition.slug)}`}>{p.petition.title}</a>
      </p>
    )}
    <SignatureProgress count={p.petition.signatureCount} goal={p.petition.goal} />
    {p.accepted && p.petition.state !== 'pending' ? (
      <>
        <p>Petitions win when people share them. Ask friends and family to sign too:</p>
        <ShareLinks url={p.url} title={p.petition.title} />
      </>
    ) : null}
  </Layout>
);

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
    { config: { csrf: true, rateLimit: SIGN_RATE_LIMIT } },
    async (request, reply) => {
      const { slug } = request.params as { slug: string };
      const values = formValues((request.body ?? {}) as Record<string, unknown>);
      try {
        // A bot is told "check your email" like everyone else, and nothing is recorded.
        if (!signatures.looksAutomated(values, ctx.config.signMinSeconds)) await signatures.recordSignature(slug, values, { ip: request.ip });
        const support = values.support_token ? `?support=${encodeURIComponent(values.support_token)}` : '';
        return reply.redirect(`/petitions/${encodeURIComponent(slug)}/signed${support}`, 303);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'validation_failed') {
          const supportToken = values.support_token;
          const view = supportToken
            ? { petition: await petitions.petitionForSigning(slug, supportToken), actor: null }
            : await petitions.viewFor(slug, request.user);
          return renderPetitionPage(ctx, request, reply, view, { signValues: values, signErrors: err.fields, status: 422, supportToken });
        }
        if (err.code === 'petition_closed') {
          const view = await petitions.viewFor(slug, request.user);
          return renderPetitionPage(ctx, request, reply, view, { notice: err.message, status: 409 });
        }
        throw err;
      }
    },
  );

  app.get('/petitions/:slug/signed', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const { support } = request.query as { support?: unknown };
    const petition = typeof support === 'string' ? await petitions.petitionForSigning(slug, support).catch(() => null) : null;
    return sendPage(
      reply.header('x-robots-tag', 'noindex'),
      CheckEmailPage({ ctx: await pageContext(ctx, request, reply), petition: petition ?? (await petitions.getForViewer(slug, null)) }),
    );
  });

  app.get('/signatures/remove', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const value = typeof token === 'string' ? token : '';
    const valid = signatures.removalTokens.verify(value) !== null;
    const page = (
      <Layout ctx={await pageContext(ctx, request, reply)} title="Remove your signature">
        <h1>Remove your signature</h1>
        {valid ? (
          <form method="post" action="/signatures/remove">
            <CsrfField token={reply.generateCsrf()} />
            <input type="hidden" name="token" value={value} />
            <p>Your signature and the details you gave will be deleted, and the petition’s count will go down by one.</p>
            <button type="submit" class="button button-primary">
              Remove my signature
            </button>
          </form>
        ) : (
          <p>This link is not valid. Check that you copied the whole link from your confirmation email.</p>
        )}
      </Layout>
    );
    return sendPage(reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').header('x-robots-tag', 'noindex'), page, valid ? 200 : 404);
  });

  app.post('/signatures/remove', { config: { csrf: true } }, async (request, reply) => {
    const token = (request.body as { token?: unknown } | undefined)?.token;
    const petition = await signatures.removeSignature(typeof token === 'string' ? token : '');
    const page = (
      <Layout ctx={await pageContext(ctx, request, reply)} title="Signature removed">
        <h1>Your signature is removed</h1>
        <p>
          Your signature on “{petition.title}” and the details you gave have been deleted.
        </p>
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'no-store'), page);
  });

  app.get('/signatures/confirm', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const result = await signatures.confirmSignature(typeof token === 'string' ? token : '');
    reply.header('x-robots-tag', 'noindex').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const accepted = result.status !== 'petition_closed';
    const page = ConfirmedPage({
      ctx: await pageContext(ctx, request, reply),
      petition: result.petition,
      url: petitions.urlFor(result.petition),
      accepted,
    });
    return sendPage(reply, page, accepted ? 200 : 409);
  });
}
