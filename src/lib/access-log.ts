import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * The access log: one line a request once it is answered (`request`, at info: method, path,
 * status, milliseconds), where Fastify's own request logging wrote two ("incoming request",
 * "request completed"), each through the redaction of every path in LOG_REDACT_PATHS. At the
 * default level (info) those two lines cost a fifth to a third of the signing rate with 200 signers at once
 * (docs/performance.md, "2026-12-07, towards midnight"). The other lines Fastify writes (errors
 * of a stream, of the error handler) are its own.
 */
export class AccessLog extends LogController {
  /** `logsRequests`: whether the app's logger writes info lines (its level is info or lower). */
  constructor(private readonly logsRequests: boolean) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (!error && !this.logsRequests) return;
    const line = { method: request.method, path: pathForLog(request.url, request.routeOptions.url, request.params), status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else request.log.info(line, 'request');
  }
}

/**
 * A request's path as the logs keep it: without its query string (a confirmation link carries
 * its token there), and with a route's secret parameter (`:token` in an invitation, an
 * endorsement request, a supporter's or an unsubscribe link) left as its name, the other
 * parameters (a petition's slug) filled in. IP addresses are personal data and are not logged.
 */
export function pathForLog(url: string, route: string | undefined, params: unknown): string {
  if (route === undefined || !route.includes(':token')) {
    const query = url.indexOf('?');
    return query === -1 ? url : url.slice(0, query);
  }
  const values = params as Record<string, string | undefined>;
  return route.replace(/:(\w+)/g, (name, key: string) => (key === 'token' ? name : encodeURIComponent(values[key] ?? '')));
}
