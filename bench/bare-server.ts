/**
 * The ceiling for the signing benchmark: a bare Fastify server that parses the same JSON body
 * and answers 202, with no validation, database or security headers. Run as its own process so
 * it is measured exactly as the site is.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/sign', async (request, reply) => {
  void request.body;
  return reply.status(202).send({ data: { status: 'pending_confirmation' } });
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
