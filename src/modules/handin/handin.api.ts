import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { unauthenticated } from '../../lib/errors.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';
import { PetitionOutput, SlugParams } from '../petitions/petitions.schema.ts';
import type { User } from '../users/users.service.ts';
import { DeliveryInput, OutcomeInput, PaperBatchInput, ResponseInput } from './handin.schema.ts';

export const CSV_IMPORT_LIMIT = 5 * 1024 * 1024;

/** The API's token holder, or the signed-in browser user (downloads are links on the team's pages). */
async function apiOrSessionUser(ctx: AppContext, request: FastifyRequest): Promise<User> {
  if (request.headers.authorization) return requireApiUser(ctx, request);
  if (request.user) return request.user;
  throw unauthenticated('Sign in, or send an API token as "Authorization: Bearer <token>".');
}

const BatchOutput = z.object({
  id: z.number().int(),
  count: z.number().int(),
  collected_on: z.string(),
  place: z.string().nullable(),
  collected_by: z.string().nullable(),
  source: z.enum(['count', 'import']),
});

/**
 * Hand-in routes: the pack (`/petitions/{slug}/handin.pdf`), exports, paper signatures, the
 * delivery, the response and the outcome.
 */
export function registerHandinApi(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { handin, petitions } = ctx.services;
  const Envelope = z.object({ data: PetitionOutput });

  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: CSV_IMPORT_LIMIT }, (_request, body, done) => done(null, body));

  app.get('/petitions/:slug/handin.pdf', async (request, reply) => {
    const user = await apiOrSessionUser(ctx, request);
    const { petition, pdf } = await handin.handinPack(user, (request.params as { slug: string }).slug);
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${petition.slug}-hand-in.pdf"`)
      .header('cache-control', 'private, no-store')
      .send(pdf);
  });

  // The same export for API clients and for the staff page's link (whose errors, such as "another
  // export is running", then show as a page rather than JSON).
  const signersCsv = async (request: FastifyRequest, reply: FastifyReply) => {
    const user = await apiOrSessionUser(ctx, request);
    const { petition, csv } = await handin.signaturesCsv(user, (request.params as { slug: string }).slug);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${petition.slug}-signatures.csv"`)
      .header('cache-control', 'private, no-store')
      .send(csv);
  };
  api.get('/api/v1/petitions/:slug/signatures.csv', { schema: { params: SlugParams } }, signersCsv);
  app.get('/petitions/:slug/signatures.csv', signersCsv);

  api.get('/api/v1/petitions/:slug/summary.csv', { schema: { params: SlugParams } }, async (request, reply) => {
    const user = await apiOrSessionUser(ctx, request);
    const { petition, csv } = await handin.summaryCsv(user, request.params.slug);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${petition.slug}-summary.csv"`).header('cache-control', 'private, no-store').send(csv);
  });

  api.get('/api/v1/petitions/:slug/paper-signatures', { schema: { params: SlugParams, response: { 200: z.object({ data: z.array(BatchOutput) }) } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    const { batches } = await handin.listPaper(user, request.params.slug);
    return { data: batches.map((b) => ({ id: b.id, count: b.count, collected_on: b.collected_on, place: b.place, collected_by: b.collected_by, source: b.source })) };
  });

  // JSON `{count, collected_on, place?, collected_by?}`, or a CSV body (Content-Type: text/csv)
  // of names and postcodes with `?collected_on=&place=&collected_by=`.
  api.post(
    '/api/v1/petitions/:slug/paper-signatures',
    { schema: { params: SlugParams, body: z.union([PaperBatchInput, z.string().describe('CSV: name,postcode[,email,country]')]) }, bodyLimit: CSV_IMPORT_LIMIT },
    async (request, reply) => {
      const user = await requireApiUser(ctx, request);
      if (typeof request.body === 'string') {
        const report = await handin.importPaperCsv(user, request.params.slug, request.body, request.query);
        return reply.status(201).send({ data: report });
      }
      const batch = await handin.recordPaperBatch(user, request.params.slug, request.body ?? {});
      return reply.status(201).send({ data: { id: batch.id, count: batch.count, collected_on: batch.collected_on, place: batch.place, collected_by: batch.collected_by, source: batch.source } });
    },
  );

  api.post('/api/v1/petitions/:slug/delivery', { schema: { params: SlugParams, body: DeliveryInput, response: { 200: Envelope } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    return { data: petitions.toOutput(await handin.recordDelivery(user, request.params.slug, request.body ?? {})) };
  });

  api.post('/api/v1/petitions/:slug/response', { schema: { params: SlugParams, body: ResponseInput } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    const response = await handin.recordResponse(user, request.params.slug, request.body ?? {});
    return { data: { responder: response.responder, responded_on: response.responded_on, text: response.text, document_url: response.document_url } };
  });

  api.post('/api/v1/petitions/:slug/outcome', { schema: { params: SlugParams, body: OutcomeInput, response: { 200: Envelope } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    return { data: petitions.toOutput(await handin.recordOutcome(user, request.params.slug, request.body ?? {})) };
  });
}
