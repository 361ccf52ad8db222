import type { FastifyReply } from 'fastify';
import { acceptsGzip, PageTemplate } from './page-cache.ts';

/** Sends a hono/jsx element as an HTML page (hono/jsx escapes every interpolated value). */
export async function sendPage(reply: FastifyReply, element: unknown, status = 200): Promise<FastifyReply> {
  const html = await (element as { toString(): string | Promise<string> }).toString();
  return reply.status(status).type('text/html; charset=utf-8').send(`<!DOCTYPE html>${html}`);
}

/** Renders a page once into a template with holes where each visitor's own values go. */
export async function renderTemplate(element: unknown, holes: string[]): Promise<PageTemplate> {
  const html = await (element as { toString(): string | Promise<string> }).toString();
  return PageTemplate.split(`<!DOCTYPE html>${html}`, holes);
}

/** Sends a page template filled in for this visitor, gzip-compressed when the browser takes it. */
export function sendTemplate(reply: FastifyReply, template: PageTemplate, values: Record<string, string>, status = 200): FastifyReply {
  reply.status(status).type('text/html; charset=utf-8').header('vary', 'Accept-Encoding');
  if (acceptsGzip(reply.request)) return reply.header('content-encoding', 'gzip').send(template.fillGzip(values));
  return reply.send(template.fill(values));
}
