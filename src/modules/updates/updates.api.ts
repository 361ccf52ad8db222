import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { renderMarkdown } from '../../lib/markdown.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import { SlugParams } from '../petitions/petitions.schema.ts';
import { UpdateInput, UpdateOutput, UpdateParams } from './updates.schema.ts';
import type { UpdateWithEmail } from './updates.service.ts';

/** Updates API: `POST/GET /api/v1/petitions/{slug}/updates`, `GET/PATCH/DELETE …/updates/{id}`. */
export function registerUpdatesApi(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { updates, petitions } = ctx.services;

  const output = (petition: Petition, u: UpdateWithEmail, team: boolean): z.infer<typeof UpdateOutput> => ({
    id: u.id,
    title: u.title,
    body: u.body,
    body_html: renderMarkdown(u.body),
    image_url: u.imageUploadId ? `${ctx.config.baseUrl}/uploads/${u.imageUploadId}` : null,
    url: `${petitions.urlFor(petition)}/updates/${u.id}`,
    author: u.authorName,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    email: team && u.email ? { total: u.email.total, sent: u.email.sent, finished: !!u.email.finishedAt } : null,
  });
  const viewerOf = (request: { headers: { authorization?: string } }) =>
    request.headers.authorization ? requireApiUser(ctx, request as never) : Promise.resolve(null);
  const isTeam = async (slug: string, viewer: Awaited<ReturnType<typeof viewerOf>>) =>
    !!viewer && petitions.can(await petitions.viewFor(slug, viewer), 'campaign');

  api.get('/api/v1/petitions/:slug/updates', { schema: { params: SlugParams, response: { 200: z.object({ data: z.array(UpdateOutput) }) } } }, async (request) => {
    const viewer = await viewerOf(request);
    const { petition, updates: list } = await updates.list(request.params.slug, viewer);
    const team = await isTeam(petition.slug, viewer);
    return { data: list.map((u) => output(petition, u, team)) };
  });

  api.post('/api/v1/petitions/:slug/updates', { schema: { params: SlugParams, body: UpdateInput, response: { 201: z.object({ data: UpdateOutput }) } } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    const update = await updates.post(user, request.params.slug, request.body ?? {});
    const petition = await petitions.getForViewer(request.params.slug, user);
    return reply.status(201).send({ data: output(petition, update, true) });
  });

  api.get('/api/v1/petitions/:slug/updates/:id', { schema: { params: UpdateParams, response: { 200: z.object({ data: UpdateOutput }) } } }, async (request) => {
    const viewer = await viewerOf(request);
    const { petition, update } = await updates.get(request.params.slug, request.params.id, viewer);
    return { data: output(petition, update, await isTeam(petition.slug, viewer)) };
  });

  api.patch('/api/v1/petitions/:slug/updates/:id', { schema: { params: UpdateParams, body: UpdateInput, response: { 200: z.object({ data: UpdateOutput }) } } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    const update = await updates.edit(user, request.params.slug, request.params.id, request.body ?? {});
    return { data: output(await petitions.getForViewer(request.params.slug, user), update, true) };
  });

  api.delete('/api/v1/petitions/:slug/updates/:id', { schema: { params: UpdateParams } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    await updates.remove(user, request.params.slug, request.params.id);
    return reply.status(204).send();
  });
}
