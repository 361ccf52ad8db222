import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { forbidden } from '../../lib/errors.ts';
import { CsrfField, formatDate, formatDuration, formatNumber } from '../../views/components.tsx';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { requirePageUser } from '../auth/auth.plugin.ts';
import { isModerator } from '../petitions/petition-policy.ts';
import { GIVEN_UP_KEPT_DAYS } from '../../jobs/jobs.service.ts';

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
              {' · '}
              <a href="/admin/jobs">Background work</a>
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

  // What the workers have to do, how late they are, and what they gave up on (administrators).
  app.get('/admin/jobs', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { now, kinds, givenUp, lastRetried } = await ctx.services.jobs.overview(user);
    const time = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: ctx.config.timeZone });
    const csrf = reply.generateCsrf();
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title="Background work">
        <p>
          <a href="/admin">← Moderation queue</a>
        </p>
        <h1>Background work</h1>
        {lastRetried ? (
          // From the audit log, so that what it says was done was done (not a link's query string).
          <p class="notice" role="status">
            Last queued again: {lastRetried.jobs === 1 ? '1 job' : `${formatNumber(lastRetried.jobs)} jobs`} of kind <code>{lastRetried.kind}</code>,{' '}
            {time.format(new Date(lastRetried.at))}, by {lastRetried.by ?? 'the site operator (command line)'}.
          </p>
        ) : null}
        <p>
          Emails, webhooks and other work the workers do after a request has been answered. A job that fails is tried again, less and less
          often, for about an hour; then it is given up. A confirmation email given up is a signer who cannot confirm: once the cause is
          mended (the mail relay is back, say), queue those jobs again.
        </p>
        {kinds.length === 0 ? (
          <p>Nothing is waiting, running or given up.</p>
        ) : (
          <table class="table">
            <caption class="visually-hidden">Jobs by kind</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col" class="num">
                  Waiting
                </th>
                <th scope="col" class="num">
                  Due now
                </th>
                <th scope="col">Longest due</th>
                <th scope="col" class="num">
                  Running
                </th>
                <th scope="col" class="num">
                  Given up
                </th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {kinds.map((k) => (
                <tr>
                  <td>
                    <code>{k.kind}</code>
                  </td>
                  <td class="num">{formatNumber(k.waiting)}</td>
                  <td class="num">{formatNumber(k.due)}</td>
                  <td>{k.dueSince ? formatDuration(Date.parse(now) - Date.parse(k.dueSince)) : '—'}</td>
                  <td class="num">{formatNumber(k.running)}</td>
                  <td class="num">{formatNumber(k.dead)}</td>
                  <td>
                    {k.dead > 0 ? (
                      <form method="post" action="/admin/jobs/retry">
                        <CsrfField token={csrf} />
                        <input type="hidden" name="kind" value={k.kind} />
                        <button type="submit" class="button">
                          Queue {k.dead === 1 ? 'it' : `all ${formatNumber(k.dead)}`} again
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {givenUp.length > 0 ? (
          <>
            <h2>Given up most recently</h2>
            <p>Given-up jobs are kept for {GIVEN_UP_KEPT_DAYS} days, then deleted.</p>
            <table class="table">
              <caption class="visually-hidden">Jobs given up, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Given up</th>
                  <th scope="col">Kind</th>
                  <th scope="col" class="num">
                    Attempts
                  </th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {givenUp.map((j) => (
                  <tr>
                    <td>{j.givenUpAt ? time.format(new Date(j.givenUpAt)) : '—'}</td>
                    <td>
                      <code>{j.kind}</code>
                    </td>
                    <td class="num">{formatNumber(j.attempts)}</td>
                    <td>{j.error ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page);
  });

  app.post('/admin/jobs/retry', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const kind = (request.body as { kind?: unknown } | undefined)?.kind;
    await ctx.services.jobs.retryGivenUp(user, kind);
    return reply.redirect('/admin/jobs', 303);
  });
}
