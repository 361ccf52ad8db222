import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { User } from '../users/users.service.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';
import { CreatePetitionInput, HideInput, ListPetitionsQuery, PetitionListOutput, PetitionOutput, RejectInput, SlugParams } from './petitions.schema.ts';
import type { Petition } from './petitions.service.ts';

const PetitionEnvelope = z.object({ data: PetitionOutput });

/** JSON API for petitions under /api/v1. Writes need a Bearer token; rules live in the service. */
export function registerPetitionsApi(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const petitions = ctx.services.petitions;
  // Answers read alike by everyone are kept a moment as bytes (serialised, and checked against
  // the schema, once) in the public page cache and sent as they are.
  const sendJson = (reply: FastifyReply, json: Buffer) => reply.type('application/json; charset=utf-8').send(json as never);
  const keepJson = (key: string, body: unknown): Buffer => {
    const json = Buffer.from(JSON.stringify(body));
    ctx.services.pageCache.set(key, json);
    return json;
  };

  // Query and bodies are validated by the service (one schema for forms and API), so errors match.
  api.get('/api/v1/petitions', { schema: { querystring: ListPetitionsQuery, response: { 200: PetitionListOutput } } }, async (request, reply) => {
    const result = await petitions.listPublic(request.query);
    const body = () => ({ data: result.petitions.map((p) => petitions.toOutput(p)), page: result.page });
    // A search is anyone's words: answered for each. A list is alike for every reader (sites
    // showing the most popular petitions, aggregators), so its JSON is written once a moment
    // under its address, which a change to a petition made here drops (see app.ts).
    if (result.q) return body();
    const key = `/api/v1/petitions?state=${result.filter}&sort=${result.sort}&page=${result.page.number}&per_page=${result.page.size}`;
    const kept = ctx.services.pageCache.get(key);
    return sendJson(reply, Buffer.isBuffer(kept) ? kept : keepJson(key, PetitionListOutput.parse(body())));
  });

  api.post('/api/v1/petitions', { schema: { body: CreatePetitionInput, response: { 201: PetitionEnvelope } } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    const petition = await petitions.createPetition(user, request.body ?? {});
    return reply.status(201).header('location', `/api/v1/petitions/${petition.slug}`).send({ data: petitions.toOutput(petition) });
  });

  api.get('/api/v1/petitions/:slug', { schema: { params: SlugParams, response: { 200: PetitionEnvelope } } }, async (request, reply) => {
    const viewer = request.headers.authorization ? await requireApiUser(ctx, request) : null;
    // Anonymous readers (embeds, count widgets) share one answer per second, like the public page.
    const key = `api:${request.params.slug}`;
    const cached = viewer ? null : ctx.services.pageCache.get(key);
    if (Buffer.isBuffer(cached)) return sendJson(reply, cached);
    const petition = await petitions.getForViewer(request.params.slug, viewer);
    const body = { data: petitions.toOutput(petition) };
    if (!viewer && !petition.hidden && ['open', 'closed', 'delivered'].includes(petition.state)) {
      return sendJson(reply, keepJson(key, PetitionEnvelope.parse(body)));
    }
    return body;
  });

  api.patch('/api/v1/petitions/:slug', { schema: { params: SlugParams, body: CreatePetitionInput, response: { 200: PetitionEnvelope } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    return { data: petitions.toOutput(await petitions.updatePetition(user, request.params.slug, request.body ?? {})) };
  });

  const actions: Record<string, (user: User, slug: string, body: unknown) => Promise<Petition>> = {
    submit: (user, slug) => petitions.submitPetition(user, slug),
    open: (user, slug) => petitions.openPetition(user, slug),
    publish: (user, slug) => petitions.publishPetition(user, slug),
    reject: (user, slug, body) => petitions.rejectPetition(user, slug, body ?? {}),
    close: (user, slug) => petitions.closePetition(user, slug),
    hide: (user, slug, body) => petitions.setHidden(user, slug, true, body ?? {}),
    unhide: (user, slug) => petitions.setHidden(user, slug, false),
  };
  const bodies: Record<string, z.ZodType> = { reject: RejectInput, hide: HideInput };
  for (const [name, run] of Object.entries(actions)) {
    const body = bodies[name];
    api.post(`/api/v1/petitions/:slug/${name}`, { schema: { params: SlugParams, ...(body ? { body } : {}), response: { 200: PetitionEnvelope } } }, async (request) => {
      const user = await requireApiUser(ctx, request);
      return { data: petitions.toOutput(await run(user, request.params.slug, request.body)) };
    });
  }
}
