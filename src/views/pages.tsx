import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { AppError } from '../lib/errors.ts';
import { Layout, type PageContext } from './layout.tsx';
import { t, translateMessage } from '../i18n/i18n.ts';
import { localisedPageKey, PageTemplate } from './page-cache.ts';
import { renderTemplate, sendPage, sendTemplate, type PageElement } from './render.ts';

/** Builds the {@link PageContext} for a request: site name, signed-in user, a fresh CSRF token. */
export async function pageContext(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, options: { csrfToken?: string; path?: string } = {}): Promise<PageContext> {
  let csrfToken = options.csrfToken;
  return {
    siteName: ctx.config.siteName,
    user: request.user,
    // Made when a form on the page asks for it: pages without forms set no CSRF cookie and pay no
    // HMAC. A page rendered for the public cache carries a placeholder, filled in per visitor.
    get csrfToken() {
      return (csrfToken ??= reply.generateCsrf());
    },
    devMail: ctx.config.env !== 'production' && !ctx.config.smtpUrl,
    path: options.path ?? (request.method === 'GET' ? request.url : refererPath(request)),
  };
}

/** Where each visitor's own CSRF token goes in a page kept for every visitor (see sendSharedPage). */
export const CSRF_PLACEHOLDER = '__undersign_csrf_token__';

/**
 * Sends a page that every visitor who is not signed in sees alike (the home page, a list of
 * petitions) from the public page cache, or renders it with `build` and keeps it there (see
 * PublicPageCache) under `address`: the page's own address, which the kept copy links to (the
 * language switch) rather than the first visitor's, who may have added anything to it. `build`
 * reads what the page shows, so a kept page costs no read. A signed-in visitor gets a page
 * rendered for them.
 */
export async function sendSharedPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, address: string, build: (page: PageContext) => PageElement | Promise<PageElement>): Promise<FastifyReply> {
  if (request.user) return sendPage(reply, await build(await pageContext(ctx, request, reply)));
  const template = await ctx.services.pageCache.template(localisedPageKey(request, address), async () =>
    renderTemplate(request, await build(await pageContext(ctx, request, reply, { csrfToken: CSRF_PLACEHOLDER, path: address })), [CSRF_PLACEHOLDER]),
  );
  return sendTemplate(reply, template, template.hasHole(CSRF_PLACEHOLDER) ? { [CSRF_PLACEHOLDER]: reply.generateCsrf() } : {});
}

/**
 * Sends a document every reader gets alike (a feed, an image) from the public page cache under
 * `key`, or has `write` write it and keeps it there, compressed once, like a shared page.
 */
export async function sendSharedDocument(ctx: AppContext, reply: FastifyReply, key: string, type: string, write: () => string | Promise<string>): Promise<FastifyReply> {
  const document = await ctx.services.pageCache.template(key, async () => PageTemplate.split(await write(), []));
  return sendTemplate(reply, document, {}, 200, type);
}

/** After a form post, the language switch leads back to the page the form was on. */
function refererPath(request: FastifyRequest): string {
  try {
    const referer = new URL(request.headers.referer ?? '/', 'http://localhost');
    return `${referer.pathname}${referer.search}`;
  } catch {
    return '/';
  }
}

const ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 422, 429, 500, 503];

export const ErrorPage = ({ ctx, error }: { ctx: PageContext; error: AppError }) => {
  const title = t(ERROR_STATUSES.includes(error.status) ? `error_page.title_${error.status}` : 'error_page.title_fallback');
  return (
    <Layout ctx={ctx} title={title}>
      <h1>{title}</h1>
      <p>{translateMessage(error.message)}</p>
      {error.status === 401 ? (
        <p>
          <a href="/login">{t('layout.sign_in')}</a>
        </p>
      ) : null}
      <p>
        <a href="/">{t('error_page.home')}</a>
      </p>
    </Layout>
  );
};
