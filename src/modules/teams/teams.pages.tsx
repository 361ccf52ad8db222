import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, formatDate, SelectField, TextField } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { requirePageUser } from '../auth/auth.plugin.ts';
import type { User } from '../users/users.service.ts';
import type { Team } from './teams.service.ts';

const ROLE_OPTIONS = [
  { value: 'editor', label: 'Editor — edits the petition and posts updates' },
  { value: 'viewer', label: 'Viewer — sees statistics and exports' },
  { value: 'owner', label: 'Owner — everything, including the team' },
];

const TeamPage = (p: { ctx: PageContext; team: Team; manage: boolean; user: User; timeZone: string; values: Record<string, string>; errors: FieldErrors; notice?: string }) => {
  const base = `/petitions/${encodeURIComponent(p.team.petition.slug)}/team`;
  return (
    <Layout ctx={p.ctx} title={`Team: ${p.team.petition.title}`}>
      <p>
        <a href={`/petitions/${encodeURIComponent(p.team.petition.slug)}`}>← Back to the petition</a>
      </p>
      <h1>Team</h1>
      <p>The people who run “{p.team.petition.title}”. A petition always keeps at least one owner.</p>
      {p.notice ? (
        <div class="banner banner-notice" role="alert">
          <p>{p.notice}</p>
        </div>
      ) : null}
      <table class="table">
        <caption class="visually-hidden">Team members and invitations</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Since</th>
            {p.manage ? <th scope="col">Change</th> : null}
          </tr>
        </thead>
        <tbody>
          {p.team.members.map((m) => (
            <tr>
              <td>{m.name}</td>
              <td>{m.email}</td>
              <td>{m.role}</td>
              <td>{formatDate(m.since, p.timeZone)}</td>
              {p.manage ? (
                <td>
                  <form method="post" action={`${base}/role`} class="inline-action">
                    <CsrfField token={p.ctx.csrfToken} />
                    <input type="hidden" name="email" value={m.email} />
                    <label for={`role-${m.userId}`} class="visually-hidden">
                      Role of {m.name}
                    </label>
                    <select id={`role-${m.userId}`} name="role">
                      {['owner', 'editor', 'viewer'].map((r) => (
                        <option value={r} selected={r === m.role}>
                          {r}
                        </option>
                      ))}
                    </select>
                    <button type="submit" class="button button-secondary">
                      Change role
                    </button>
                  </form>
                  <form method="post" action={`${base}/remove`} class="inline-action">
                    <CsrfField token={p.ctx.csrfToken} />
                    <input type="hidden" name="email" value={m.email} />
                    <button type="submit" class="button button-secondary">
                      Remove<span class="visually-hidden"> {m.name}</span>
                    </button>
                  </form>
                </td>
              ) : null}
            </tr>
          ))}
          {p.team.invitations.map((i) => (
            <tr>
              <td>
                <em>Invited</em>
              </td>
              <td>{i.email}</td>
              <td>{i.role}</td>
              <td>until {formatDate(i.expiresAt, p.timeZone)}</td>
              {p.manage ? (
                <td>
                  <form method="post" action={`${base}/remove`} class="inline-action">
                    <CsrfField token={p.ctx.csrfToken} />
                    <input type="hidden" name="email" value={i.email} />
                    <button type="submit" class="button button-secondary">
                      Withdraw invitation<span class="visually-hidden"> to {i.email}</span>
                    </button>
                  </form>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {p.manage ? (
        <section aria-labelledby="invite-title">
          <h2 id="invite-title">Invite someone</h2>
          <ErrorSummary errors={p.errors} labels={{ email: 'Email address', role: 'Role' }} />
          <form method="post" action={`${base}/invite`} novalidate>
            <CsrfField token={p.ctx.csrfToken} />
            <TextField name="email" label="Email address" type="email" value={p.values.email} error={p.errors.email} required />
            <SelectField name="role" label="Role" options={ROLE_OPTIONS} value={p.values.role ?? 'editor'} error={p.errors.role} />
            <button type="submit" class="button button-primary">
              Send invitation
            </button>
          </form>
        </section>
      ) : (
        <form method="post" action={`${base}/remove`}>
          <CsrfField token={p.ctx.csrfToken} />
          <input type="hidden" name="email" value={p.user.email} />
          <button type="submit" class="button button-secondary">
            Leave this team
          </button>
        </form>
      )}
    </Layout>
  );
};

const InvitationPage = (p: { ctx: PageContext; title: string; role: string; email: string; token: string; signedInAs: string | null }) => (
  <Layout ctx={p.ctx} title="Team invitation">
    <h1>Join the team of “{p.title}”</h1>
    <p>
      You are invited as {p.role}. The invitation was sent to {p.email}.
    </p>
    {p.signedInAs ? (
      <form method="post" action={`/invitations/${encodeURIComponent(p.token)}`}>
        <CsrfField token={p.ctx.csrfToken} />
        <button type="submit" class="button button-primary">
          Accept the invitation
        </button>
      </form>
    ) : (
      <p>
        <a class="button button-primary" href={`/login?next=${encodeURIComponent(`/invitations/${p.token}`)}`}>
          Sign in to accept
        </a>{' '}
        or <a href="/signup">create an account</a> with {p.email} first.
      </p>
    )}
  </Layout>
);

export function registerTeamPages(app: FastifyInstance, ctx: AppContext): void {
  const teams = ctx.services.teams;

  const showTeam = async (
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    slug: string,
    extra: { values?: Record<string, string>; errors?: FieldErrors; notice?: string; status?: number } = {},
  ) => {
    const team = await teams.getTeam(user, slug);
    const view = await ctx.services.petitions.viewFor(slug, user);
    const page = (
      <TeamPage
        ctx={await pageContext(ctx, request, reply)}
        team={team}
        manage={ctx.services.petitions.can(view, 'manage_team')}
        user={user}
        timeZone={ctx.config.timeZone}
        values={extra.values ?? {}}
        errors={extra.errors ?? {}}
        notice={extra.notice}
      />
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page, extra.status ?? 200);
  };

  app.get('/petitions/:slug/team', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    return showTeam(request, reply, user, (request.params as { slug: string }).slug);
  });

  const teamAction = (name: string, run: (user: User, slug: string, body: Record<string, unknown>) => Promise<unknown>) =>
    app.post(`/petitions/:slug/team/${name}`, { config: { csrf: true } }, async (request, reply) => {
      const user = requirePageUser(request, reply);
      if (!user) return reply;
      const { slug } = request.params as { slug: string };
      const body = (request.body ?? {}) as Record<string, unknown>;
      try {
        await run(user, slug, body);
      } catch (err) {
        if (!(err instanceof AppError) || ![404, 409, 422].includes(err.status) || err.code === 'petition_not_found') throw err;
        const values = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
        return showTeam(request, reply, user, slug, { values, errors: err.code === 'validation_failed' ? err.fields : {}, notice: err.message, status: err.status });
      }
      // Leaving the team means the team page is no longer yours to see.
      const left = name === 'remove' && body.email === user.email;
      return reply.redirect(left ? '/account' : `/petitions/${encodeURIComponent(slug)}/team`, 303);
    });

  teamAction('invite', (user, slug, body) => teams.invite(user, slug, body));
  teamAction('role', (user, slug, body) => teams.changeRole(user, slug, body));
  teamAction('remove', (user, slug, body) => teams.removeMember(user, slug, body));

  app.get('/invitations/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const { invitation, petition } = await teams.invitationForToken(token);
    const page = (
      <InvitationPage
        ctx={await pageContext(ctx, request, reply)}
        title={petition.title}
        role={invitation.role}
        email={invitation.email}
        token={token}
        signedInAs={request.user?.email ?? null}
      />
    );
    return sendPage(reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store'), page);
  });

  app.post('/invitations/:token', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { token } = request.params as { token: string };
    const petition = await teams.acceptInvitation(user, token);
    return reply.redirect(`/petitions/${encodeURIComponent(petition.slug)}`, 303);
  });
}
