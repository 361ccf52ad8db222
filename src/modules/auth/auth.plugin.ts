import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { unauthenticated } from '../../lib/errors.ts';
import type { User } from '../users/users.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user from the session cookie, or null. API routes use {@link requireApiUser}. */
    user: User | null;
  }
}

export const SESSION_COOKIE = 'undersign_session';

/** Resolves the session cookie to `request.user`. Visitors without the cookie cost no query. */
export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('user', null);
  // A callback hook, not an async one: most requests have no session, and an async hook costs
  // every request a promise and a turn of the microtask queue.
  app.addHook('onRequest', (request, _reply, done) => {
    const cookie = request.cookies[SESSION_COOKIE];
    if (!cookie || request.url.startsWith('/static/')) return done();
    ctx.services.auth.userForSession(cookie).then((user) => {
      request.user = user;
      done();
    }, done);
  });
}

/** Sets the session cookie after sign-in. */
export function setSessionCookie(ctx: AppContext, reply: FastifyReply, value: string, expiresAt: Date): void {
  reply.setCookie(SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.baseUrl.startsWith('https:'),
    expires: expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/**
 * For pages that need a signed-in user: returns the user, or redirects to the sign-in page
 * (returning null, and the caller returns the reply).
 */
export function requirePageUser(request: FastifyRequest, reply: FastifyReply): User | null {
  if (request.user) return request.user;
  const next = request.method === 'GET' ? request.url : '/';
  void reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
  return null;
}

/** For API writes: the user of the `Authorization: Bearer` token, or a 401 error. */
export async function requireApiUser(ctx: AppContext, request: FastifyRequest): Promise<User> {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthenticated('Send an API token as "Authorization: Bearer <token>".');
  return ctx.services.auth.userForApiToken(match[1]!);
}
