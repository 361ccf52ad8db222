import { t } from '../../i18n/i18n.ts';
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
  <Layout ctx={p.ctx} title={t('layout.sign_in')}>
    <h1>{t('layout.sign_in')}</h1>
    <p>{t('auth.login_intro')}</p>
    {p.error ? <ErrorSummary errors={{ email: p.error }} labels={{}} /> : null}
    <form method="post" action="/login" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <input type="hidden" name="next" value={p.next} />
      <TextField name="email" label={t('sign.email')} type="email" autocomplete="email" value={p.email} error={p.error} required />
      <TextField name="password" label={t('auth.password')} type="password" autocomplete="current-password" required />
      <button type="submit" class="button button-primary">
        {t('layout.sign_in')}
      </button>
    </form>
    <p>
      <a href="/password/forgot">{t('auth.forgotten')}</a> · {t('auth.new_here')} <a href="/signup">{t('auth.create_account')}</a>
    </p>
  </Layout>
);

const SignUpPage = (p: { ctx: PageContext; values: Record<string, string>; errors: FieldErrors }) => (
  <Layout ctx={p.ctx} title={t('auth.create_account')}>
    <h1>{t('auth.create_account')}</h1>
    <p>{t('auth.signup_intro')}</p>
    <ErrorSummary errors={p.errors} labels={{ name: t('auth.name'), email: t('sign.email'), password: t('auth.password') }} />
    <form method="post" action="/signup" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <TextField name="name" label={t('auth.your_name')} autocomplete="name" value={p.values.name} error={p.errors.name} maxlength={100} required />
      <TextField name="email" label={t('sign.email')} hint={t('auth.email_hint')} type="email" autocomplete="email" value={p.values.email} error={p.errors.email} required />
      <TextField name="password" label={t('auth.password')} hint={t('auth.password_hint', { n: MIN_PASSWORD_LENGTH })} type="password" autocomplete="new-password" error={p.errors.password} required />
      <button type="submit" class="button button-primary">
        {t('auth.create_button')}
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
  <Layout ctx={p.ctx} title={t('auth.reset_title')}>
    <h1>{t('auth.reset_title')}</h1>
    <p>{t('auth.reset_intro')}</p>
    {p.error ? <ErrorSummary errors={{ email: p.error }} labels={{}} /> : null}
    <form method="post" action="/password/forgot" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <TextField name="email" label={t('sign.email')} type="email" autocomplete="email" value={p.email} error={p.error} required />
      <button type="submit" class="button button-primary">
        {t('auth.send_link')}
      </button>
    </form>
  </Layout>
);

const ResetPage = (p: { ctx: PageContext; token: string; error?: string }) => (
  <Layout ctx={p.ctx} title={t('auth.new_password_title')}>
    <h1>{t('auth.new_password_title')}</h1>
    {p.error ? <ErrorSummary errors={{ password: p.error }} labels={{}} /> : null}
    <form method="post" action="/password/reset" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <input type="hidden" name="token" value={p.token} />
      <TextField name="password" label={t('auth.new_password')} hint={t('auth.new_password_hint', { n: MIN_PASSWORD_LENGTH })} type="password" autocomplete="new-password" error={p.error} required />
      <button type="submit" class="button button-primary">
        {t('auth.save_password')}
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
  /** A page of a title and a few lines, given as catalog keys (translated as the page renders). */
  const message = async (request: FastifyRequest, reply: FastifyReply, titleKey: string, lineKeys: string[], link?: { href: string; labelKey: string }, status = 200) => {
    const pageCtx = await pageContext(ctx, request, reply);
    return sendPage(reply, () => MessagePage({ ctx: pageCtx, title: t(titleKey), lines: lineKeys.map((key) => t(key)), link: link && { href: link.href, label: t(link.labelKey) } }), status);
  };

  app.get('/login', async (request, reply) => {
    const { next } = request.query as { next?: string };
    return sendPage(reply, <LoginPage ctx={await pageContext(ctx, request, reply)} email="" next={safeNextPath(next)} />);
  });

  app.post('/login', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const email = stringField(request.body, 'email').trim();
    const password = stringField(request.body, 'password');
    const next = safeNextPath(stringField(request.body, 'next'));
    const result = email && password ? await users.verifyCredentials(email, password, request.language) : ({ status: 'invalid' } as const);
    if (result.status === 'invalid') {
      const page = <LoginPage ctx={await pageContext(ctx, request, reply)} email={email} next={next} error="The email address or password is not right" />;
      return sendPage(reply, page, 401);
    }
    if (result.status === 'unconfirmed') {
      await users.resendConfirmation(result.user);
      return message(request, reply, 'auth.confirm_first', ['auth.confirm_first_detail'], undefined, 403);
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
    return message(request, reply, 'auth.signed_out_everywhere', ['auth.signed_out_everywhere_detail'], {
      href: '/login',
      labelKey: 'auth.sign_in_again',
    });
  });

  app.get('/signup', async (request, reply) =>
    sendPage(reply, <SignUpPage ctx={await pageContext(ctx, request, reply)} values={{}} errors={{}} />),
  );

  app.post('/signup', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const values = { name: stringField(request.body, 'name'), email: stringField(request.body, 'email') };
    try {
      await users.signUp({ ...values, password: stringField(request.body, 'password') }, request.language);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(reply, <SignUpPage ctx={await pageContext(ctx, request, reply)} values={values} errors={err.fields} />, 422);
    }
    return message(request, reply, 'signed.check_email', ['auth.check_email_signup', 'auth.check_spam']);
  });

  app.get('/account/confirm', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const user = await users.confirmEmail(typeof token === 'string' ? token : '');
    await signIn(ctx, request, reply, user);
    return message(request, reply, 'auth.confirmed', ['auth.confirmed_detail'], {
      href: '/petitions/new',
      labelKey: 'layout.start_petition',
    });
  });

  app.get('/password/forgot', async (request, reply) =>
    sendPage(reply, <ForgotPage ctx={await pageContext(ctx, request, reply)} email="" />),
  );

  app.post('/password/forgot', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const email = stringField(request.body, 'email');
    try {
      await users.requestPasswordReset({ email }, request.language);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(reply, <ForgotPage ctx={await pageContext(ctx, request, reply)} email={email} error={err.fields.email ?? err.message} />, 422);
    }
    return message(request, reply, 'signed.check_email', ['auth.check_email_reset']);
  });

  app.get('/password/reset', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    const value = typeof token === 'string' ? token : '';
    await users.checkPasswordResetToken(value);
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
    return sendPage(reply, <ResetPage ctx={await pageContext(ctx, request, reply)} token={value} />);
  });

  app.post('/password/reset', { config: { csrf: true, rateLimit: ACCOUNT_RATE_LIMIT } }, async (request, reply) => {
    const token = stringField(request.body, 'token');
    try {
      const user = await users.resetPassword(token, { password: stringField(request.body, 'password') });
      await signIn(ctx, request, reply, user);
      return reply.redirect('/account', 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(reply, <ResetPage ctx={await pageContext(ctx, request, reply)} token={token} error={err.fields.password ?? err.message} />, 422);
    }
  });
}
