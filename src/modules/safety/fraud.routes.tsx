import { withExample } from '../openapi/examples.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, formatDuration, formatNumber, TextArea, TextField } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import { maskEmail, REPORT_REFRESH_MS, type FraudReport, type FraudReviewState } from './fraud.service.ts';
import type { Invalidation, SignatureCriteria } from './fraud.repository.ts';
import type { SignatureRow } from '../../db/schema.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SlugParams } from '../petitions/petitions.schema.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';

/** An invalidation through the API: at least one way of choosing signatures, and a reason. */
const InvalidationBody = withExample(
  z.object({
  ip: z.string().max(64).optional().describe('an IP address (its signatures, while IP addresses are kept)'),
  ip_hash: z.string().max(64).optional().describe('the keyed hash of an address, as the fraud report lists it'),
  domain: z.string().max(253).optional().describe('an email domain'),
  from: z.string().max(40).optional().describe('signed at or after (ISO 8601)'),
  to: z.string().max(40).optional().describe('signed before (ISO 8601)'),
  ids: z.array(z.number().int().positive()).max(10_000).optional().describe('signature numbers'),
  reason: z.string().min(3).max(500),
  }),
  { ip_hash: '3f2a9c41d0b7', from: '2006-11-12T03:00:00Z', to: '2006-11-12T03:10:00Z', reason: 'Burst of signatures from one address overnight' },
);

const base = (petition: Pick<Petition, 'slug'>) => `/petitions/${encodeURIComponent(petition.slug)}`;

/** A drill-down link for some criteria. */
function listLink(petition: Petition, criteria: Record<string, string>): string {
  return `${base(petition)}/fraud/signatures?${new URLSearchParams(criteria)}`;
}

const when = (iso: string) => iso.replace('T', ' ').slice(0, 16);

const Table = (p: { caption: string; head: string[]; rows: unknown[][]; empty: string }) =>
  p.rows.length === 0 ? (
    <p>{p.empty}</p>
  ) : (
    <table class="table">
      <caption class="visually-hidden">{p.caption}</caption>
      <thead>
        <tr>
          {p.head.map((h, i) => (
            <th scope="col" class={i > 0 && /Signatures|Confirmed|Count/.test(h) ? 'num' : undefined}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {p.rows.map((cells) => (
          <tr>
            {cells.map((c, i) => (
              <td class={typeof c === 'number' && i > 0 ? 'num' : undefined}>{typeof c === 'number' ? formatNumber(c) : c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );

const InvalidateForm = (p: { petition: Petition; csrf: string; values: Record<string, string>; errors: FieldErrors; hidden?: Record<string, string> }) => (
  <form method="post" action={`${base(p.petition)}/invalidations`} class="panel">
    <h2 id="invalidate-title">Invalidate signatures</h2>
    <p>
      Invalidated signatures leave the count (and the figures for each area) at once. They are kept, so this can be undone, and every invalidation is in
      the audit log with its reason.
    </p>
    <ErrorSummary errors={p.errors} labels={{ ip: 'IP address', domain: 'Email domain', from: 'From', to: 'Until', ids: 'Signature numbers', reason: 'Reason' }} />
    <CsrfField token={p.csrf} />
    {Object.entries(p.hidden ?? {}).map(([name, value]) => (
      <input type="hidden" name={name} value={value} />
    ))}
    {p.hidden ? null : (
      <>
        <TextField name="ip" label="IP address" value={p.values.ip} error={p.errors.ip} maxlength={64} />
        <TextField name="domain" label="Email domain" hint="For example example.org" value={p.values.domain} error={p.errors.domain} maxlength={253} />
        <TextField name="from" label="Signed from (UTC)" hint="For example 2026-11-16T14:00" value={p.values.from} error={p.errors.from} maxlength={40} />
        <TextField name="to" label="Signed before (UTC)" hint="For example 2026-11-16T15:00" value={p.values.to} error={p.errors.to} maxlength={40} />
        <TextArea name="ids" label="Signature numbers" hint="Separated by commas or spaces" value={p.values.ids} error={p.errors.ids} rows={2} maxlength={100_000} />
      </>
    )}
    <TextField name="reason" label="Reason (kept in the audit log)" value={p.values.reason} error={p.errors.reason} maxlength={500} />
    <button type="submit" class="button button-secondary button-danger">
      Invalidate
    </button>
  </form>
);

/** Seconds or minutes, as people say them: "35 seconds", "4 minutes", "under a second". */

/**
 * Where a big petition's findings come from, and the way to newer ones. Nothing for a small
 * petition's (computed for this page). While newer findings are computed, the page says so and
 * /static/review-progress.js (where scripts run) polls `fraud/state` and offers them once ready;
 * without it, a link reloads the page. Never an automatic reload: a moderator may be half-way
 * through the invalidation form below (and WCAG 2.2.1 asks that pages not refresh on their own).
 */
const ReviewState = (p: { petition: Petition; state: FraudReviewState; hasFindings: boolean; csrf: string }) => {
  const { state } = p;
  if (state.live) return null;
  const expected = state.tookMs === null ? 'a few seconds for every million signatures' : state.tookMs < 1000 ? 'a moment' : `about ${formatDuration(state.tookMs)}`;
  const reload = <a href={`${base(p.petition)}/fraud`}>Reload this page</a>;
  const progress = state.updatingSince ? { 'data-review-progress': `${base(p.petition)}/fraud/state`, 'data-computed-at': state.computedAt ?? '' } : {};
  return (
    <div class="panel" id="review-state">
      {p.hasFindings && state.computedAt ? (
        <p>
          These findings are as of {when(state.computedAt)} UTC (they took {formatDuration(state.tookMs ?? 0)} to compute). This petition has too many signatures to review while
          the page loads: its findings are computed in the background, again when someone looks and they are more than {REPORT_REFRESH_MS / 60_000} minutes old.
        </p>
      ) : null}
      {p.hasFindings && state.outdated ? <p>Signatures were invalidated or reinstated since: the figures below do not show it yet.</p> : null}
      {state.updatingSince ? (
        <p role="status" {...progress}>
          {p.hasFindings ? (
            <>Newer findings are being computed (asked for at {when(state.updatingSince)} UTC). This takes {expected}: {reload} to see them once they are ready.</>
          ) : (
            <>
              <strong>The findings for this petition are being computed</strong> (asked for at {when(state.updatingSince)} UTC). This takes {expected}: {reload} to see them once they are ready.
            </>
          )}
        </p>
      ) : null}
      {p.hasFindings && !state.updatingSince ? (
        <form method="post" action={`${base(p.petition)}/fraud/refresh`} class="inline-form">
          <CsrfField token={p.csrf} />
          <button type="submit" class="button button-secondary">
            Review again now
          </button>
        </form>
      ) : null}
    </div>
  );
};

const FraudPage = (p: { ctx: PageContext; petition: Petition; report: FraudReport | null; invalidations: Invalidation[]; state: FraudReviewState; notice?: string; values?: Record<string, string>; errors?: FieldErrors }) => {
  const { petition, report: r } = p;
  return (
    <Layout ctx={p.ctx} title={`Signature review: ${petition.title}`} scripts={p.state.updatingSince ? ['/static/review-progress.js'] : undefined}>
      <p>
        <a href={base(petition)}>← {petition.title}</a>
      </p>
      <h1>Signature review</h1>
      {p.notice ? (
        <div class="banner banner-notice" role="status">
          <p>{p.notice}</p>
        </div>
      ) : null}
      <ReviewState petition={petition} state={p.state} hasFindings={r !== null} csrf={p.ctx.csrfToken} />
      {r ? <Findings petition={petition} report={r} /> : null}
      <Invalidations petition={petition} invalidations={p.invalidations} csrf={p.ctx.csrfToken} />
      <InvalidateForm petition={petition} csrf={p.ctx.csrfToken} values={p.values ?? {}} errors={p.errors ?? {}} />
    </Layout>
  );
};

/** What looks automated about the signatures: the report's tables. */
const Findings = (p: { petition: Petition; report: FraudReport }) => {
  const { petition, report: r } = p;
  return (
    <>
      <p>
        {formatNumber(r.totals.confirmed)} confirmed, {formatNumber(r.totals.pending)} waiting for confirmation, {formatNumber(r.totals.invalidated)} invalidated. IP
        addresses are kept for the fraud-review period only; after that signatures from one address are still grouped by a keyed hash.
      </p>

      <h2>Busiest minutes</h2>
      <p>Half of all minutes with signatures had {formatNumber(r.minutes.median)} or fewer. Spikes (ten times that, and at least 10) are marked.</p>
      <Table
        caption="Busiest minutes"
        head={['Minute (UTC)', 'Signatures', '']}
        rows={r.minutes.top.map((m) => [
          <a href={listLink(petition, { from: `${m.minute}:00Z`, to: new Date(Date.parse(`${m.minute}:00Z`) + 60_000).toISOString() })}>{when(m.minute)}</a>,
          m.count,
          m.spike ? <strong>Spike</strong> : '',
        ])}
        empty="No signatures yet."
      />

      <h2>Many signatures from one address within ten minutes</h2>
      <Table
        caption="Bursts from one address"
        head={['Address', 'Ten minutes from (UTC)', 'Signatures']}
        rows={r.bursts.map((b) => [
          <a href={listLink(petition, { ip_hash: b.ipHash, from: `${b.window}:00Z`, to: new Date(Date.parse(`${b.window}:00Z`) + 600_000).toISOString() })}>{b.ip ?? `hash ${b.ipHash.slice(0, 8)}`}</a>,
          when(b.window),
          b.count,
        ])}
        empty="None: no address gave 10 or more signatures within ten minutes."
      />

      <h2>Addresses with the most signatures</h2>
      <Table
        caption="Top IP addresses"
        head={['Address', 'Signatures', 'Confirmed', 'First', 'Last']}
        rows={r.ips.map((g) => [<a href={listLink(petition, { ip_hash: g.ipHash })}>{g.ip ?? `hash ${g.ipHash.slice(0, 8)}`}</a>, g.count, g.confirmed, when(g.first), when(g.last)])}
        empty="No address gave more than one signature."
      />

      <h2>Email domains with the most signatures</h2>
      <Table
        caption="Top email domains"
        head={['Domain', 'Signatures', 'Confirmed', 'First', 'Last']}
        rows={r.domains.map((g) => [<a href={listLink(petition, { domain: g.domain })}>{g.domain}</a>, g.count, g.confirmed, when(g.first), when(g.last)])}
        empty="No domain gave more than one signature."
      />

      <h2>Addresses that differ only by a number</h2>
      <Table
        caption="Numbered email addresses"
        head={['Pattern', 'Count', 'Examples']}
        rows={r.sequences.map((s) => [<a href={listLink(petition, { domain: s.domain })}>{`${s.stem}…@${s.domain}`}</a>, s.count, s.examples.join(', ')])}
        empty={`None among the latest ${formatNumber(r.patternSample)} signatures.`}
      />

      <h2>Places that do not add up</h2>
      <ul>
        <li>{formatNumber(r.countryMismatches)} signers chose a country other than the UK but gave a valid UK postcode.</li>
        <li>{formatNumber(r.unknownPostcodes)} UK postcodes are not in the imported ONS postcode directory{r.unknownPostcodes === 0 ? ' (or no directory is imported)' : ''}.</li>
      </ul>

    </>
  );
};

/** The petition's invalidations, each reversible (read live, whatever the findings' age). */
const Invalidations = (p: { petition: Petition; invalidations: Invalidation[]; csrf: string }) => {
  const { petition } = p;
  return (
    <>
      <h2>Invalidations</h2>
      {p.invalidations.length === 0 ? (
        <p>None.</p>
      ) : (
        <table class="table">
          <caption class="visually-hidden">Invalidations</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Reason</th>
              <th scope="col" class="num">
                Signatures
              </th>
              <th scope="col" class="num">
                Were confirmed
              </th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {p.invalidations.map((inv) => (
              <tr>
                <td>{when(inv.created_at)}</td>
                <td>{inv.reason}</td>
                <td class="num">
                  <a href={listLink(petition, { invalidation: String(inv.id) })}>{formatNumber(inv.signature_count)}</a>
                </td>
                <td class="num">{formatNumber(inv.confirmed_count)}</td>
                <td>
                  {inv.reverted_at ? (
                    `Reinstated ${when(inv.reverted_at)}`
                  ) : (
                    <form method="post" action={`${base(petition)}/invalidations/${inv.id}/reinstate`} class="inline-form">
                      <CsrfField token={p.csrf} />
                      <button type="submit" class="button button-secondary">
                        Reinstate
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
};

const SignatureList = (p: { ctx: PageContext; petition: Petition; criteria: SignatureCriteria; query: Record<string, string>; rows: SignatureRow[]; total: number; page: number; perPage: number; preview: { signatures: number; confirmed: number } | null }) => (
  <Layout ctx={p.ctx} title={`Signatures under review: ${p.petition.title}`}>
    <p>
      <a href={`${base(p.petition)}/fraud`}>← Signature review</a>
    </p>
    <h1>Signatures under review</h1>
    <p>
      {formatNumber(p.total)} {p.total === 1 ? 'signature matches' : 'signatures match'}
      {p.query.domain ? ` from addresses at ${p.query.domain}` : ''}
      {p.query.from ? `, signed from ${when(p.criteria.from!)}` : ''}
      {p.query.to ? ` until ${when(p.criteria.to!)}` : ''} (times in UTC).
    </p>
    <table class="table">
      <caption class="visually-hidden">Matching signatures</caption>
      <thead>
        <tr>
          <th scope="col">Number</th>
          <th scope="col">Name</th>
          <th scope="col">Email</th>
          <th scope="col">Postcode</th>
          <th scope="col">Country</th>
          <th scope="col">Signed (UTC)</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((s) => (
          <tr>
            <td>{s.id}</td>
            <td>{s.name}</td>
            <td>{s.email ? maskEmail(s.email) : '(erased)'}</td>
            <td>{s.postcode ?? ''}</td>
            <td>{s.country}</td>
            <td>{when(s.created_at)}</td>
            <td>{s.status}</td>
          </tr>
        ))}
      </tbody>
    </table>
    {p.total > p.page * p.perPage ? (
      <p>
        <a href={`?${new URLSearchParams({ ...p.query, page: String(p.page + 1) })}`}>Next {p.perPage}</a>
      </p>
    ) : null}
    {p.preview && p.preview.signatures > 0 ? (
      <>
        <p>
          Invalidating takes {formatNumber(p.preview.signatures)} {p.preview.signatures === 1 ? 'signature' : 'signatures'} out ({formatNumber(p.preview.confirmed)} of
          them confirmed, so the count falls by {formatNumber(p.preview.confirmed)}).
        </p>
        <InvalidateForm petition={p.petition} csrf={p.ctx.csrfToken} values={{}} errors={{}} hidden={p.query} />
      </>
    ) : null}
  </Layout>
);

/** Fraud review for moderators: the dashboard, drill-down lists, invalidation and its reversal (pages and API). */
export function registerFraudRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { fraud } = ctx.services;
  const slugOf = (request: FastifyRequest) => (request.params as { slug: string }).slug;

  const showDashboard = async (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; values?: Record<string, string>; errors?: FieldErrors; status?: number } = {}) => {
    const { petition, report, invalidations, state } = await fraud.report(request.user, slugOf(request));
    reply.header('cache-control', 'private, no-store');
    return sendPage(
      reply,
      <FraudPage ctx={await pageContext(ctx, request, reply)} petition={petition} report={report} invalidations={invalidations} state={state} notice={extra.notice} values={extra.values} errors={extra.errors} />,
      extra.status ?? 200,
    );
  };

  app.get('/petitions/:slug/fraud', async (request, reply) => {
    const notice = (request.query as { notice?: string }).notice;
    const notices: Record<string, string> = { invalidated: 'The signatures were invalidated.', reinstated: 'The signatures were reinstated.', refreshing: 'The findings are being computed again.' };
    return showDashboard(request, reply, { notice: notice ? notices[notice] : undefined });
  });

  // Polled by /static/review-progress.js while newer findings are computed.
  app.get('/petitions/:slug/fraud/state', async (request, reply) => {
    reply.header('cache-control', 'private, no-store');
    return { data: await fraud.progress(request.user, slugOf(request)) };
  });

  app.post('/petitions/:slug/fraud/refresh', { config: { csrf: true } }, async (request, reply) => {
    await fraud.refresh(request.user, slugOf(request));
    return reply.redirect(`${base({ slug: slugOf(request) })}/fraud?notice=refreshing`, 303);
  });

  app.get('/petitions/:slug/fraud/signatures', async (request, reply) => {
    const query = Object.fromEntries(Object.entries(request.query as Record<string, unknown>).filter(([k, v]) => typeof v === 'string' && v !== '' && k !== 'page')) as Record<string, string>;
    const page = Math.max(1, Math.min(10_000, Number((request.query as { page?: string }).page) || 1));
    const listed = await fraud.list(request.user, slugOf(request), query, page);
    const { rows, total, preview } = listed;
    reply.header('cache-control', 'private, no-store');
    return sendPage(
      reply,
      <SignatureList ctx={await pageContext(ctx, request, reply)} petition={listed.petition} criteria={listed.criteria} query={query} rows={rows} total={total} page={page} perPage={listed.perPage} preview={preview} />,
    );
  });

  app.post('/petitions/:slug/invalidations', { config: { csrf: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>;
    try {
      await fraud.invalidate(request.user, slugOf(request), body);
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') {
        const { _csrf: _ignored, ...values } = body;
        return showDashboard(request, reply, { values, errors: Object.keys(err.fields).length ? err.fields : { ip: err.message }, status: 422 });
      }
      throw err;
    }
    return reply.redirect(`${base({ slug: slugOf(request) })}/fraud?notice=invalidated`, 303);
  });

  app.post('/petitions/:slug/invalidations/:id/reinstate', { config: { csrf: true } }, async (request, reply) => {
    await fraud.reinstate(request.user, slugOf(request), Number((request.params as { id: string }).id));
    return reply.redirect(`${base({ slug: slugOf(request) })}/fraud?notice=reinstated`, 303);
  });

  // The same for API clients (moderators' tokens).
  const api = app.withTypeProvider<ZodTypeProvider>();
  // `review` says how fresh the findings are; a big petition's first findings are computed by a
  // job: 202 with Retry-After until they are ready.
  api.get('/api/v1/petitions/:slug/fraud', { schema: { params: SlugParams, querystring: z.object({ refresh: z.enum(['true', 'false']).optional() }) } }, async (request, reply) => {
    const { report, state } = await fraud.report(await requireApiUser(ctx, request), request.params.slug, { refresh: request.query.refresh === 'true' });
    if (!report) return reply.status(202).header('retry-after', '15').send({ data: null, review: state });
    return { data: report, review: state };
  });
  api.post('/api/v1/petitions/:slug/invalidations', { schema: { params: SlugParams, body: InvalidationBody } }, async (request, reply) => {
    const inv = await fraud.invalidate(await requireApiUser(ctx, request), request.params.slug, request.body);
    return reply.status(201).send({ data: inv });
  });
  api.post('/api/v1/petitions/:slug/invalidations/:id/reinstate', { schema: { params: SlugParams.extend({ id: z.coerce.number().int().positive() }) } }, async (request) => {
    return { data: await fraud.reinstate(await requireApiUser(ctx, request), request.params.slug, request.params.id) };
  });
}
