import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';
import { SlugParams } from '../petitions/petitions.schema.ts';
import { ChangeRoleInput, InviteInput, TeamEntryOutput } from './teams.schema.ts';
import type { Team } from './teams.service.ts';

const TeamOutput = z.object({ data: z.array(TeamEntryOutput) });

function teamOutput(team: Team): z.infer<typeof TeamOutput> {
  return {
    data: [
      ...team.members.map((m) => ({ name: m.name, email: m.email, role: m.role, status: 'member' as const, since: m.since })),
      ...team.invitations.map((i) => ({ name: null, email: i.email, role: i.role, status: 'invited' as const, since: i.createdAt })),
    ],
  };
}

/**
 * Team API: `GET` lists members and open invitations, `POST {email, role}` invites,
 * `PATCH {email, role}` changes a member's role, `DELETE {email}` (or `?email=`) removes a
 * member or withdraws an invitation. Each answers with the team as it now is.
 */
export function registerTeamsApi(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const teams = ctx.services.teams;
  const url = '/api/v1/petitions/:slug/members';
  const schema = { params: SlugParams, response: { 200: TeamOutput, 201: TeamOutput } };

  api.get(url, { schema }, async (request) => {
    const user = await requireApiUser(ctx, request);
    return teamOutput(await teams.getTeam(user, request.params.slug));
  });

  api.post(url, { schema: { ...schema, body: InviteInput } }, async (request, reply) => {
    const user = await requireApiUser(ctx, request);
    await teams.invite(user, request.params.slug, request.body ?? {});
    return reply.status(201).send(teamOutput(await teams.getTeam(user, request.params.slug)));
  });

  api.patch(url, { schema: { ...schema, body: ChangeRoleInput } }, async (request) => {
    const user = await requireApiUser(ctx, request);
    await teams.changeRole(user, request.params.slug, request.body ?? {});
    return teamOutput(await teams.getTeam(user, request.params.slug));
  });

  api.delete(url, { schema }, async (request) => {
    const user = await requireApiUser(ctx, request);
    const body = request.body && typeof request.body === 'object' ? request.body : (request.query as object);
    await teams.removeMember(user, request.params.slug, body);
    // Someone who left can no longer see the team.
    const team = await teams.getTeam(user, request.params.slug).catch(() => null);
    return team ? teamOutput(team) : { data: [] };
  });
}
