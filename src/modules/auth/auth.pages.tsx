import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { CsrfField, ErrorSummary, TextField } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './auth.plugin.ts';

/** Only local paths are followed after sign-in, never another site. */
export function safeNextPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s\\]*$/.test(next) ? next : '/account';
}

const LoginPage = (p: { ctx: PageContext; email: string; next: string; error?: string }) => (
  <Layout ctx={p.ctx} title="Sign in">
    <h1>Sign in</h1>
    <p>Campaigners and moderators sign in here. You do not need an account to sign a petition.</p>
    {p.error ? <ErrorSummary errors={{ email: p.error }} labels={{}} /> : null}
    <form method="post" action="/login" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <input type="hidden" name="next" value={p.next} />
      <TextField name="email" label="Email address" type="email" autocomplete="email" value={p.email} error={p.error} required />
      <TextField name="password" label="Password" type="password" autocomplete="current-password" required />
      <button type="submit" class="button">
        Sign in
      </button>
    </form>
  </Layout>
);

export function registerAuthPages(app: FastifyInstance, ctx: AppContext): void {
  app.get('/login', async (request, reply) => {
    const { next } = request.query as { next?: string };
    return sendPage(reply, LoginPage({ ctx: await pageContext(ctx, request, reply), email: '', next: safeNextPath(next) }));
  });

  app.post(
    '/login',
    { config: { csrf: true, rateLimit: { max: 10, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const email = typeof body.email === 'string' ? body.email.trim() : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const next = safeNextPath(body.next);
      const user = email && password ? await ctx.services.users.verifyCredentials(email, password) : null;
      if (!user) {
        const page = LoginPage({
          ctx: await pageContext(ctx, request, reply),
          email,
          next,
          error: 'The email address or password is not right',
        });
        return sendPage(reply, page, 401);
      }
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) await ctx.services.auth.endSession(previous);
      const session = await ctx.services.auth.startSession(user);
      setSessionCookie(ctx, reply, session.cookieValue, session.expiresAt);
      return reply.redirect(next, 303);
    },
  );

  app.post('/logout', { config: { csrf: true } }, async (request, reply) => {
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie) await ctx.services.auth.endSession(cookie);
    clearSessionCookie(reply);
    return reply.redirect('/', 303);
  });
}

