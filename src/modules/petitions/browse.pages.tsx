import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../lib/errors.ts';
import { formatDate, formatNumber } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { timeLeft } from './petitions.pages.tsx';
import type { Petition, PetitionPage } from './petitions.service.ts';

const FILTERS = [
  { value: 'open', label: 'Open' },
  { value: 'closed', label: 'Closed' },
  { value: 'rejected', label: 'Rejected' },
  { value: 'victories', label: 'Victories' },
] as const;

const SORTS = [
  { value: 'popular', label: 'Most signed' },
  { value: 'newest', label: 'Newest' },
  { value: 'closing', label: 'Closing soon' },
] as const;

function listUrl(params: { state: string; sort?: string; q?: string; page?: number }): string {
  const search = new URLSearchParams();
  search.set('state', params.state);
  if (params.sort) search.set('sort', params.sort);
  if (params.q) search.set('q', params.q);
  if (params.page && params.page > 1) search.set('page', String(params.page));
  return `/petitions?${search.toString()}`;
}

const signatures = (n: number) => `${formatNumber(n)} ${n === 1 ? 'signature' : 'signatures'}`;

/** One petition in a list: title, decision-maker, count and its state's date. */
const PetitionItem = (p: { petition: Petition; timeZone: string; now: Date }) => {
  const { petition } = p;
  return (
    <li class="petition-item">
      <a href={`/petitions/${encodeURIComponent(petition.slug)}`}>{petition.title}</a>
      <span class="meta">
        {' '}
        — to {petition.target.name} · {signatures(petition.signatureCount)}
        {petition.state === 'open' && petition.deadline ? ` · ${timeLeft(petition.deadline, p.now)}` : ''}
        {petition.state === 'closed' && (petition.closedAt ?? petition.deadline) ? ` · closed ${formatDate((petition.closedAt ?? petition.deadline)!, p.timeZone)}` : ''}
        {petition.state === 'rejected' && petition.rejection ? ` · ${petition.rejection.label}` : ''}
        {petition.outcome?.result === 'won' ? ' · Victory' : ''}
      </span>
    </li>
  );
};

const ListPage = (p: { ctx: PageContext; result: PetitionPage; timeZone: string; now: Date }) => {
  const { result } = p;
  const heading = result.filter === 'victories' ? 'Victories' : `${FILTERS.find((f) => f.value === result.filter)!.label} petitions`;
  return (
    <Layout ctx={p.ctx} title={result.q ? `${heading} matching “${result.q}”` : heading}>
      <h1>Petitions</h1>
      <form method="get" action="/petitions" class="search-form" role="search">
        <input type="hidden" name="state" value={result.filter} />
        <label for="search-q">Search petitions</label>
        <div class="search-row">
          <input id="search-q" type="search" name="q" value={result.q} maxlength={200} />
          <button type="submit" class="button button-secondary">
            Search
          </button>
        </div>
      </form>
      <nav aria-label="Petition states">
        <ul class="tabs">
          {FILTERS.map((f) => (
            <li>
              <a href={listUrl({ state: f.value, q: result.q })} aria-current={f.value === result.filter ? 'page' : undefined}>
                {f.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <p class="sort">
        Sort:{' '}
        {SORTS.filter((s) => s.value !== 'closing' || result.filter === 'open').map((s, i) => (
          <>
            {i > 0 ? ' · ' : ''}
            {s.value === result.sort ? <strong>{s.label}</strong> : <a href={listUrl({ state: result.filter, sort: s.value, q: result.q })}>{s.label}</a>}
          </>
        ))}
      </p>
      <h2>
        {heading}
        {result.q ? ` matching “${result.q}”` : ''} ({formatNumber(result.page.total)})
      </h2>
      {result.petitions.length === 0 ? (
        <p>No petitions found.</p>
      ) : (
        <ol class="petition-list" start={(result.page.number - 1) * result.page.size + 1}>
          {result.petitions.map((petition) => (
            <PetitionItem petition={petition} timeZone={p.timeZone} now={p.now} />
          ))}
        </ol>
      )}
      {result.page.total_pages > 1 ? (
        <nav aria-label="Pages" class="pagination">
          {result.page.number > 1 ? (
            <a rel="prev" href={listUrl({ state: result.filter, sort: result.sort, q: result.q, page: result.page.number - 1 })}>
              ← Previous
            </a>
          ) : null}
          <span>
            Page {result.page.number} of {result.page.total_pages}
          </span>
          {result.page.number < result.page.total_pages ? (
            <a rel="next" href={listUrl({ state: result.filter, sort: result.sort, q: result.q, page: result.page.number + 1 })}>
              Next →
            </a>
          ) : null}
        </nav>
      ) : null}
    </Layout>
  );
};

/** One list of the home page; an ordered list when the order is a ranking. */
const HomeList = (p: { id: string; title: string; petitions: Petition[]; ordered?: boolean; timeZone: string; now: Date }) => {
  const items = p.petitions.map((petition) => <PetitionItem petition={petition} timeZone={p.timeZone} now={p.now} />);
  return (
    <section aria-labelledby={`${p.id}-title`}>
      <h2 id={`${p.id}-title`}>{p.title}</h2>
      {p.petitions.length === 0 ? <p>There are no open petitions yet.</p> : p.ordered ? <ol class="petition-list">{items}</ol> : <ul class="petition-list">{items}</ul>}
    </section>
  );
};

const HomePage = (p: { ctx: PageContext; popular: Petition[]; recent: Petition[]; closed: Petition[]; total: number; timeZone: string; now: Date }) => (
  <Layout ctx={p.ctx} title={p.ctx.siteName} description="Start a petition, gather signatures and hand them in to the people who decide.">
    <section class="hero">
      <h1>Petitions that reach the people who decide</h1>
      <p>Start a petition, gather signatures confirmed by email, and hand them in before the decision is made.</p>
      <p class="site-total">
        <strong>{formatNumber(p.total)}</strong> {p.total === 1 ? 'signature' : 'signatures'} confirmed on this site so far.
      </p>
      <p>
        <a class="button button-primary" href="/petitions/new">
          Start a petition
        </a>{' '}
        <a class="button button-secondary" href="/petitions">
          Browse petitions
        </a>
      </p>
    </section>
    <div class="home-lists">
      <HomeList id="popular" title="Most signed" petitions={p.popular} ordered timeZone={p.timeZone} now={p.now} />
      <HomeList id="recent" title="Just opened" petitions={p.recent} timeZone={p.timeZone} now={p.now} />
    </div>
    {p.closed.length ? <HomeList id="closed" title="Recently closed and handed in" petitions={p.closed} timeZone={p.timeZone} now={p.now} /> : null}
  </Layout>
);

export function registerBrowsePages(app: FastifyInstance, ctx: AppContext): void {
  const petitions = ctx.services.petitions;

  app.get('/', async (request, reply) => {
    const [popular, recent, closed, total] = await Promise.all([
      petitions.listPublic({ state: 'open', sort: 'popular', per_page: 5 }),
      petitions.listPublic({ state: 'open', sort: 'newest', per_page: 5 }),
      petitions.listPublic({ state: 'closed', sort: 'newest', per_page: 5 }),
      petitions.siteSignatureTotal(),
    ]);
    const page = HomePage({
      ctx: await pageContext(ctx, request, reply),
      popular: popular.petitions,
      recent: recent.petitions,
      closed: closed.petitions,
      total,
      timeZone: ctx.config.timeZone,
      now: ctx.clock(),
    });
    return sendPage(reply, page);
  });

  app.get('/petitions', async (request, reply) => {
    let result: PetitionPage;
    try {
      result = await petitions.listPublic(request.query);
    } catch (err) {
      // A hand-edited address (page=abc) falls back to the first page rather than an error.
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      result = await petitions.listPublic({});
    }
    const page = ListPage({ ctx: await pageContext(ctx, request, reply), result, timeZone: ctx.config.timeZone, now: ctx.clock() });
    return sendPage(reply, page);
  });
}
