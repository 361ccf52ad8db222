import type { FastifyReply } from 'fastify';

/** Sends a hono/jsx element as an HTML page (hono/jsx escapes every interpolated value). */
export async function sendPage(reply: FastifyReply, element: unknown, status = 200): Promise<FastifyReply> {
  const html = await (element as { toString(): string | Promise<string> }).toString();
  return reply.status(status).type('text/html; charset=utf-8').send(`<!DOCTYPE html>${html}`);
}
