import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { forbidden } from '../../lib/errors.ts';
import { formatDate, formatNumber } from '../../views/components.tsx';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { requirePageUser } from '../auth/auth.plugin.ts';
import { isModerator } from '../petitions/petition-policy.ts';

const AUDIT_PAGE_SIZE = 100;

/** Describes an audit entry's particulars in a line a person can read. */
function describeDetails(details: Record<string, unknown>): string {
  const changes = details.changes as Record<string, { from: unknown; to: unknown }> | undefined;
  if (changes) {
    return Object.entries(changes)
      .map(([field, c]) => `${field}: “${String(c.from ?? '')}” → “${String(c.to ?? '')}”`)
      .join('; ');
  }
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

/** The moderators' area: the queue of submitted petitions and the audit log. */
export function registerAdminPages(app: FastifyInstance, ctx: AppContext): void {
  const { petitions } = ctx.services;

  app.get('/admin', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const queue = await petitions.moderationQueue(user);
    const tz = ctx.config.timeZone;
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title="Moderation queue">
        <h1>Moderation queue</h1>
        <p>
          Submitted petitions, oldest first
          {ctx.config.supportersRequired > 0 ? `, once they have ${ctx.config.supportersRequired} supporters` : ''}. Open one to publish
          or reject it. <a href="/admin/audit">Audit log</a>
          {request.user?.role === 'admin' ? (
            <>
              {' · '}
              <a href="/admin/webhooks">Site-wide webhooks</a>
            </>
          ) : null}
        </p>
        {queue.length === 0 ? (
          <p>Nothing is waiting. Well done.</p>
        ) : (
          <table class="table">
            <caption class="visually-hidden">Petitions waiting for moderation</caption>
            <thead>
              <tr>
                <th scope="col">Submitted</th>
                <th scope="col">Petition</th>
                <th scope="col">To</th>
                <th scope="col" class="num">
                  Supporters
                </th>
              </tr>
            </thead>
            <tbody>
              {queue.map((p) => (
                <tr>
                  <td>{formatDate(p.submittedAt ?? p.updatedAt, tz)}</td>
                  <td>
                    <a href={`/petitions/${encodeURIComponent(p.slug)}`}>{p.title}</a>
                  </td>
                  <td>{p.target.name}</td>
                  <td class="num">{formatNumber(p.signatureCount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page);
  });

  app.get('/admin/audit', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    if (!isModerator(user.role)) throw forbidden('Only moderators and administrators can see the audit log.');
    const pageNumber = Math.max(1, Math.min(10_000, Number((request.query as { page?: string }).page) || 1));
    const entries = await ctx.repositories.audit.list({ limit: AUDIT_PAGE_SIZE + 1, offset: (pageNumber - 1) * AUDIT_PAGE_SIZE });
    const more = entries.length > AUDIT_PAGE_SIZE;
    const time = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: ctx.config.timeZone });
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title="Audit log">
        <p>
          <a href="/admin">← Moderation queue</a>
        </p>
        <h1>Audit log</h1>
        <p>Every moderation and team action: who did what, and when. Newest first.</p>
        <table class="table">
          <caption class="visually-hidden">Audit log entries</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Petition</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.slice(0, AUDIT_PAGE_SIZE).map((e) => (
              <tr>
                <td>{time.format(new Date(e.createdAt))}</td>
                <td>{e.actorName ?? 'System'}</td>
                <td>{e.action}</td>
                <td>{e.petitionSlug ? <a href={`/petitions/${encodeURIComponent(e.petitionSlug)}`}>{e.petitionSlug}</a> : '—'}</td>
                <td>{describeDetails(e.details)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <nav aria-label="Pages" class="pagination">
          {pageNumber > 1 ? <a href={`/admin/audit?page=${pageNumber - 1}`}>← Newer</a> : null}
          {more ? <a href={`/admin/audit?page=${pageNumber + 1}`}>Older →</a> : null}
        </nav>
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page);
  });
}
