import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';
import { PetitionOutput, SlugParams } from './petitions.schema.ts';

const PetitionEnvelope = z.object({ data: PetitionOutput });

/** JSON API for petitions under /api/v1. Writes need a Bearer token. */
export function registerPetitionsApi(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const petitions = ctx.services.petitions;

  // The body is validated by the service (one schema for the form and the API), so errors match.
  api.post('/api/v1/petitions', { schema: { response: { 201: PetitionEnvelope } } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    const petition = await petitions.createPetition(user, request.body ?? {});
    return reply.status(201).header('location', `/api/v1/petitions/${petition.slug}`).send({ data: petitions.toOutput(petition) });
  });

  api.get(
    '/api/v1/petitions/:slug',
    { schema: { params: SlugParams, response: { 200: PetitionEnvelope } } },
    async (request) => {
      const viewer = request.headers.authorization ? await requireApiUser(ctx, request) : null;
      const petition = await petitions.getForViewer(request.params.slug, viewer);
      return { data: petitions.toOutput(petition) };
    },
  );

  api.post(
    '/api/v1/petitions/:slug/open',
    { schema: { params: SlugParams, response: { 200: PetitionEnvelope } } },
    async (request) => {
      const user = await requireApiUser(ctx, request);
      return { data: petitions.toOutput(await petitions.openPetition(user, request.params.slug)) };
    },
  );

  api.post(
    '/api/v1/petitions/:slug/close',
    { schema: { params: SlugParams, response: { 200: PetitionEnvelope } } },
    async (request) => {
      const user = await requireApiUser(ctx, request);
      return { data: petitions.toOutput(await petitions.closePetition(user, request.params.slug)) };
    },
  );
}
