import { fastifyRequestContext } from '@fastify/request-context';
import type { FastifyInstance } from 'fastify';
import { isLanguage, languageFromAcceptLanguage, type Language } from './i18n.ts';

/** The cookie that remembers a visitor's choice of language. */
export const LANGUAGE_COOKIE = 'undersign_lang';

/**
 * Picks each request's language: `?lang=` (the language switch; remembered in a cookie), then the
 * cookie, then a petition's own default (see preferLanguage), then Accept-Language, then English.
 */
export async function registerLanguage(app: FastifyInstance, options: { secure: boolean; defaultLanguage: Language }): Promise<void> {
  await app.register(fastifyRequestContext, { defaultStoreValues: { language: options.defaultLanguage, languageSource: 'default' } });
  app.addHook('onRequest', async (request, reply) => {
    const asked = (request.query as { lang?: unknown } | undefined)?.lang;
    const remembered = request.cookies[LANGUAGE_COOKIE];
    if (isLanguage(asked)) {
      request.requestContext.set('language', asked);
      request.requestContext.set('languageSource', 'chosen');
      if (asked !== remembered) {
        reply.setCookie(LANGUAGE_COOKIE, asked, { path: '/', sameSite: 'lax', httpOnly: true, secure: options.secure, maxAge: 365 * 86_400 });
      }
    } else if (isLanguage(remembered)) {
      request.requestContext.set('language', remembered);
      request.requestContext.set('languageSource', 'chosen');
    } else {
      const accepted = languageFromAcceptLanguage(request.headers['accept-language']);
      if (accepted) {
        request.requestContext.set('language', accepted);
        request.requestContext.set('languageSource', 'browser');
      }
    }
  });
  // Set last, since a petition's own default may have changed the language on the way.
  app.addHook('onSend', async (request, reply) => {
    reply.header('Content-Language', request.requestContext.get('language'));
    if (!request.url.startsWith('/api/') && !request.url.startsWith('/static/')) {
      // Kept after what the route varies on (cached petition pages: Accept-Encoding).
      const routeVaries = reply.getHeader('vary');
      reply.header('Vary', routeVaries ? `Accept-Language, Cookie, ${String(routeVaries)}` : 'Accept-Language, Cookie');
    }
  });
}
