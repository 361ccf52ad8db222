import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { isDatabaseReachable } from '../../db/database.ts';

export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  /** 200 when the database answers, 503 otherwise: for load balancers and uptime checks. */
  app.get('/healthz', async (_request, reply) => {
    const ok = await isDatabaseReachable(ctx.db);
    return reply
      .status(ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(ok ? { status: 'ok' } : { status: 'unavailable', error: { code: 'service_unavailable', message: 'The database does not answer.', field: null } });
  });
}
