import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, TextField } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { MIN_PASSWORD_LENGTH, type User } from '../users/users.service.ts';
import { clearSessionCookie, requirePageUser, SESSION_COOKIE, setSessionCookie } from './auth.plugin.ts';

/** Only local paths are followed after sign-in, never another site. */
export function safeNextPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s\\]*$/.test(next) ? next : '/account';
}

const ACCOUNT_RATE_LIMIT = { max: 10, timeWindow: '1 minute' };

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
      <button type="submit" class="button button-primary">
        Sign in
      </button>
    </form>
    <p>
      <a href="/password/forgot">Forgotten your password?</a> · New here? <a href="/signup">Create an account</a>
    </p>
  </Layout>
);

const SignUpPage = (p: { ctx: PageContext; values: Record<string, string>; errors: FieldErrors }) => (
  <Layout ctx={p.ctx} title="Create an account">
    <h1>Create an account</h1>
    <p>An account lets you start petitions and run them with your team. To sign a petition, you do not need one.</p>
    <ErrorSummary errors={p.errors} labels={{ name: 'Name', email: 'Email address', password: 'Password' }} />
    <form method="post" action="/signup" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <TextField name="name" label="Your name" autocomplete="name" value={p.values.name} error={p.errors.name} maxlength={100} required />
      <TextField name="email" label="Email address" hint="We will send you a link to confirm it." type="email" autocomplete="email" value={p.values.email} error={p.errors.email} required />
      <TextField name="password" label="Password" hint={`At least ${MIN_PASSWORD_LENGTH} characters. A few unrelated words make a strong one.`} type="password" autocomplete="new-password" error={p.errors.password} required />
      <button type="submit" class="button button-primary">
        Create account
      </button>
    </form>
  </Layout>
);

const MessagePage = (p: { ctx: PageContext; title: string; lines: string[]; link?: { href: string; label: string } }) => (
  <Layout ctx={p.ctx} title={p.title}>
    <h1>{p.title}</h1>
    {p.lines.map((line) => (
      <p>{line}</p>
    ))}
    {p.link ? (
      <p>
        <a href={p.link.href}>{p.link.label}</a>
      </p>
    ) : null}
  </Layout>
);

const ForgotPage = (p: { ctx: PageContext; email: string; error?: string }) => (
  <Layout ctx={p.ctx} title="Reset your password">
    <h1>Reset your password</h1>
    <p>Enter the email address of your account and we will send you a link to choose a new password.</p>
    {p.error ? <ErrorSummary errors={{ email: p.error }} labels={{}} /> : null}
    <form method="post" action="/password/forgot" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <TextField name="email" label="Email address" type="email" autocomplete="email" value={p.email} error={p.error} required />
      <button type="submit" class="button button-primary">
        Send me a link
      </button>
    </form>
  </Layout>
);

const ResetPage = (p: { ctx: PageContext; token: string; error?: string }) => (
  <Layout ctx={p.ctx} title="Choose a new password">
    <h1>Choose a new password</h1>
    {p.error ? <ErrorSummary errors={{ password: p.error }} labels={{}} /> : null}
    <form method="post" action="/password/reset" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <input type="hidden" name="token" value={p.token} />
      <TextField name="password" label="New password" hint={`At least ${MIN_PASSWORD_LENGTH} characters.`} type="password" autocomplete="new-password" error={p.error} required />
      <button type="submit" class="button button-primary">
        Save password and sign in
      </button>
    </form>
  </Layout>
);

function stringField(body: unknown, key: string): string {
  const value = (body as Record<string, unknown> | null)?.[key];
  return typeof value === 'string' ? value : '';
}

/** Signs the user in on this browser: a fresh session (the old one, if any, ends). */
async function signIn(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, user: User): Promise<void> {
  const previous = request.cookies[SESSION_COOKIE];
  if (previous) await ctx.services.auth.endSession(previous);
  const session = await ctx.services.auth.startSession(user);
  setSessionCookie(ctx, reply, session.cookieValue, session.expiresAt);
}

export function registerAuthPages(app: FastifyInstance, ctx: AppContext): void {
  const { users, auth } = ctx.services;
  const message = async (request: FastifyRequest, reply: FastifyReply, title: string, lines: string[], link?: { href: string; label: string }, status = 200) =>
    sendPage(reply, MessagePage({ ctx: await pageContext(ctx, request, reply), title, lines, link }), status);

  app.get('/login', async (request, reply) => {
    const { next } = request.query as { next?: string };
    return sendPage(reply, LoginPage({ ctx: await pageContext(ctx, request, reply), email: '', next: safeNextPath(next) }));
  });

  app.post('/login', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const email = stringField(request.body, 'email').trim();
    const password = stringField(request.body, 'password');
    const next = safeNextPath(stringField(request.body, 'next'));
    const result = email && password ? await users.verifyCredentials(email, password) : ({ status: 'invalid' } as const);
    if (result.status === 'invalid') {
      const page = LoginPage({ ctx: await pageContext(ctx, request, reply), email, next, error: 'The email address or password is not right' });
      return sendPage(reply, page, 401);
    }
    if (result.status === 'unconfirmed') {
      await users.resendConfirmation(result.user);
      return message(request, reply, 'Confirm your email address first', [
        'Your account is not active until you follow the link we emailed you. We have just sent a new one.',
      ], undefined, 403);
    }
    await signIn(ctx, request, reply, result.user);
    return reply.redirect(next, 303);
  });

  app.post('/logout', { config: { csrf: true } }, async (request, reply) => {
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie) await auth.endSession(cookie);
    clearSessionCookie(reply);
    return reply.redirect('/', 303);
  });

  app.post('/account/sign-out-everywhere', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    await auth.endAllSessions(user);
    clearSessionCookie(reply);
    return message(request, reply, 'Signed out everywhere', ['You are now signed out on every device, including this one.'], {
      href: '/login',
      label: 'Sign in again',
    });
  });

  app.get('/signup', async (request, reply) =>
    sendPage(reply, SignUpPage({ ctx: await pageContext(ctx, request, reply), values: {}, errors: {} })),
  );

  app.post('/signup', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const values = { name: stringField(request.body, 'name'), email: stringField(request.body, 'email') };
    try {
      await users.signUp({ ...values, password: stringField(request.body, 'password') });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(reply, SignUpPage({ ctx: await pageContext(ctx, request, reply), values, errors: err.fields }), 422);
    }
    return message(request, reply, 'Check your email', [
      'We have sent you an email. Follow the link in it to confirm your address and finish creating your account.',
      'No email after a few minutes? Check your spam folder.',
    ]);
  });

  app.get('/account/confirm', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const user = await users.confirmEmail(typeof token === 'string' ? token : '');
    await signIn(ctx, request, reply, user);
    return message(request, reply, 'Your email address is confirmed', ['Your account is ready. You are signed in.'], {
      href: '/petitions/new',
      label: 'Start a petition',
    });
  });

  app.get('/password/forgot', async (request, reply) =>
    sendPage(reply, ForgotPage({ ctx: await pageContext(ctx, request, reply), email: '' })),
  );

  app.post('/password/forgot', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const email = stringField(request.body, 'email');
    try {
      await users.requestPasswordReset({ email });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(reply, ForgotPage({ ctx: await pageContext(ctx, request, reply), email, error: err.fields.email ?? err.message }), 422);
    }
    return message(request, reply, 'Check your email', [
      'If an account uses that address, we have sent it a link to choose a new password. The link works for an hour.',
    ]);
  });

  app.get('/password/reset', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const value = typeof token === 'string' ? token : '';
    await users.checkPasswordResetToken(value);
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
    return sendPage(reply, ResetPage({ ctx: await pageContext(ctx, request, reply), token: value }));
  });

  app.post('/password/reset', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const token = stringField(request.body, 'token');
    try {
      const user = await users.resetPassword(token, { password: stringField(request.body, 'password') });
      await signIn(ctx, request, reply, user);
      return reply.redirect('/account', 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(reply, ResetPage({ ctx: await pageContext(ctx, request, reply), token, error: err.fields.password ?? err.message }), 422);
    }
  });
}
