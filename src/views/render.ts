import type { FastifyReply, FastifyRequest } from 'fastify';
import { inRequestLanguage } from '../i18n/language.plugin.ts';
import { acceptsGzip, PageTemplate } from './page-cache.ts';

/**
 * A page to render: a hono/jsx element (`<Page … />`: hono calls a component only when the
 * element is rendered), or a function that builds one (`() => <Layout …>…</Layout>`, for markup
 * written inline, whose `t()` calls would otherwise run at once in the route handler). Either way
 * its text is produced inside the request's language, which is current only while the page
 * renders (see withLanguage). Calling a component directly (`Page(props)`) outside such a
 * function would run its text too early.
 */
export type PageElement = object | (() => unknown);

/** Renders an element (a page, an SVG image) to markup in the request's language. Components must be synchronous. */
export function renderMarkup(request: FastifyRequest, element: PageElement): string {
  return inRequestLanguage(request, () => {
    const built = typeof element === 'function' ? element() : element;
    const markup = (built as { toString(): string | Promise<string> }).toString();
    if (typeof markup !== 'string') throw new Error('A component returned a promise: pages render synchronously, in the request’s language');
    return markup;
  });
}

function renderHtml(request: FastifyRequest, element: PageElement): string {
  return `<!DOCTYPE html>${renderMarkup(request, element)}`;
}

/** Sends a hono/jsx element as an HTML page (hono/jsx escapes every interpolated value). */
export function sendPage(reply: FastifyReply, element: PageElement, status = 200): FastifyReply {
  const html = renderHtml(reply.request, element);
  return reply.status(status).type('text/html; charset=utf-8').send(html);
}

/** Renders a page once into a template with holes where each visitor's own values go. */
export function renderTemplate(request: FastifyRequest, element: PageElement, holes: string[]): PageTemplate {
  return PageTemplate.split(renderHtml(request, element), holes);
}

/** Sends a page template (or an image's) filled in for this visitor, gzip-compressed when the browser takes it. */
export function sendTemplate(reply: FastifyReply, template: PageTemplate, values: Record<string, string>, status = 200, type = 'text/html; charset=utf-8'): FastifyReply {
  reply.status(status).type(type).header('vary', 'Accept-Encoding');
  if (acceptsGzip(reply.request)) return reply.header('content-encoding', 'gzip').send(template.fillGzip(values));
  return reply.send(template.fill(values));
}
