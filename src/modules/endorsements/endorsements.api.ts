import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';
import { SlugParams } from '../petitions/petitions.schema.ts';
import type { Endorsement } from './endorsements.repository.ts';
import { EndorsementInput, EndorsementOutput, EndorsementParams } from './endorsements.schema.ts';

/** Endorsements API: `GET/POST …/endorsements`, `PATCH/DELETE …/endorsements/{id}`, moderators' `POST …/{id}/verify`. */
export function registerEndorsementsApi(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { endorsements, petitions } = ctx.services;
  const output = (e: Endorsement): z.infer<typeof EndorsementOutput> => ({
    id: e.id,
    kind: e.kind,
    name: e.name,
    role: e.role,
    organisation: e.organisation,
    quote: e.quote,
    url: e.url,
    image_url: e.imageUploadId ? `${ctx.config.baseUrl}/uploads/${e.imageUploadId}` : null,
    verified: e.verified,
    position: e.position,
  });
  const one = z.object({ data: EndorsementOutput });
  const url = '/api/v1/petitions/:slug/endorsements';

  api.get(url, { schema: { params: SlugParams, response: { 200: z.object({ data: z.array(EndorsementOutput) }) } } }, async (request) => {
    const viewer = request.headers.authorization ? await requireApiUser(ctx, request) : null;
    const petition = await petitions.getForViewer(request.params.slug, viewer);
    return { data: (await endorsements.publicList(petition)).map(output) };
  });

  api.post(url, { schema: { params: SlugParams, body: EndorsementInput, response: { 201: one } } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    return reply.status(201).send({ data: output(await endorsements.add(user, request.params.slug, request.body ?? {})) });
  });

  api.patch(`${url}/:id`, { schema: { params: EndorsementParams, body: EndorsementInput, response: { 200: one } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    return { data: output(await endorsements.edit(user, request.params.slug, request.params.id, request.body ?? {})) };
  });

  api.delete(`${url}/:id`, { schema: { params: EndorsementParams } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    await endorsements.remove(user, request.params.slug, request.params.id);
    return reply.status(204).send();
  });

  api.post(`${url}/:id/verify`, { schema: { params: EndorsementParams, response: { 200: one } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    return { data: output(await endorsements.setVerified(user, request.params.slug, request.params.id, true)) };
  });
}
