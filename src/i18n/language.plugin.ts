import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLanguage, languageFromAcceptLanguage, withLanguage, type Language, type LanguageSource } from './i18n.ts';

/** The cookie that remembers a visitor's choice of language. */
export const LANGUAGE_COOKIE = 'undersign_lang';

declare module 'fastify' {
  interface FastifyRequest {
    /** The language this request is answered in (see registerLanguage). */
    language: Language;
    /**
     * Where it came from: the visitor chose it (the switch or its cookie), their browser
     * (Accept-Language), or the site default (a petition's own language replaces it).
     */
    languageSource: LanguageSource;
  }
}

/**
 * Picks each request's language: `?lang=` (the language switch; remembered in a cookie), then the
 * cookie, then a petition's own default (see openInPetitionLanguage), then Accept-Language, then English.
 */
export async function registerLanguage(app: FastifyInstance, options: { secure: boolean; defaultLanguage: Language }): Promise<void> {
  app.decorateRequest('language', options.defaultLanguage);
  app.decorateRequest('languageSource', 'default');
  app.addHook('onRequest', (request, reply, done) => {
    const asked = (request.query as { lang?: unknown } | undefined)?.lang;
    const remembered = request.cookies[LANGUAGE_COOKIE];
    if (isLanguage(asked)) {
      request.language = asked;
      request.languageSource = 'chosen';
      if (asked !== remembered) {
        reply.setCookie(LANGUAGE_COOKIE, asked, { path: '/', sameSite: 'lax', httpOnly: true, secure: options.secure, maxAge: 365 * 86_400 });
      }
    } else if (isLanguage(remembered)) {
      request.language = remembered;
      request.languageSource = 'chosen';
    } else {
      const accepted = languageFromAcceptLanguage(request.headers['accept-language']);
      if (accepted) {
        request.language = accepted;
        request.languageSource = 'browser';
      }
    }
    done();
  });
  // Set last, since a petition's own default may have changed the language on the way.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('Content-Language', request.language);
    if (!request.url.startsWith('/api/') && !request.url.startsWith('/static/')) {
      // Kept after what the route varies on (cached petition pages: Accept-Encoding).
      const routeVaries = reply.getHeader('vary');
      reply.header('Vary', routeVaries ? `Accept-Language, Cookie, ${String(routeVaries)}` : 'Accept-Language, Cookie');
    }
    done(null, payload);
  });
}

/** Runs synchronous work (a page's render) in a request's language. */
export function inRequestLanguage<T>(request: FastifyRequest, fn: () => T): T {
  return withLanguage(request.language, fn);
}
