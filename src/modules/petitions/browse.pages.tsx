import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../lib/errors.ts';
import { formatDate, formatNumber } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext, sendSharedPage } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { timeLeft } from './petitions.pages.tsx';
import { currentLanguage, t } from '../../i18n/i18n.ts';
import { petitionText, rejectionLabel } from './petition-text.ts';
import type { Petition, PetitionPage } from './petitions.service.ts';

const FILTERS = ['open', 'closed', 'rejected', 'victories'] as const;
const SORTS = ['popular', 'newest', 'closing'] as const;
/** Petitions a list page shows unless the address asks for another number (ListPetitionsQuery). */
const DEFAULT_PER_PAGE = 20;

function listUrl(params: { state: string; sort?: string; q?: string; page?: number }): string {
  const search = new URLSearchParams();
  search.set('state', params.state);
  if (params.sort) search.set('sort', params.sort);
  if (params.q) search.set('q', params.q);
  if (params.page && params.page > 1) search.set('page', String(params.page));
  return `/petitions?${search.toString()}`;
}

/**
 * A list's own address, with only what differs from the defaults (ListPetitionsQuery): the key
 * of its kept page (see sendSharedPage), whatever else a visitor's address held.
 */
function listAddress(list: PetitionPage): string {
  const search = new URLSearchParams();
  if (list.filter !== 'open') search.set('state', list.filter);
  if (list.sort !== (list.filter === 'open' ? 'popular' : 'newest')) search.set('sort', list.sort);
  if (list.page.number > 1) search.set('page', String(list.page.number));
  if (list.page.size !== DEFAULT_PER_PAGE) search.set('per_page', String(list.page.size));
  const query = search.toString();
  return query ? `/petitions?${query}` : '/petitions';
}

const signatures = (n: number) => `${formatNumber(n)} ${t('progress.signature_word', { count: n })}`;

/** One petition in a list: title, decision-maker, count and its state's date. */
const PetitionItem = (p: { petition: Petition; timeZone: string; now: Date }) => {
  const { petition } = p;
  const text = petitionText(petition);
  return (
    <li class="petition-item">
      <a href={`/petitions/${encodeURIComponent(petition.slug)}`} lang={text.language === currentLanguage() ? undefined : text.language}>
        {text.title}
      </a>
      <span class="meta">
        {' '}
        — {t('browse.to', { target: petition.target.name })} · {signatures(petition.signatureCount)}
        {petition.state === 'open' && petition.deadline ? ` · ${timeLeft(petition.deadline, p.now)}` : ''}
        {petition.state === 'closed' && (petition.closedAt ?? petition.deadline) ? ` · ${t('browse.closed_on', { date: formatDate((petition.closedAt ?? petition.deadline)!, p.timeZone) })}` : ''}
        {petition.state === 'rejected' && petition.rejection ? ` · ${rejectionLabel(petition.rejection).label}` : ''}
        {petition.outcome?.result === 'won' ? ` · ${t('petition.victory')}` : ''}
      </span>
    </li>
  );
};

const ListPage = (p: { ctx: PageContext; result: PetitionPage; timeZone: string; now: Date }) => {
  const { result } = p;
  const heading = t(`browse.heading_${result.filter}`);
  const titled = result.q ? t('browse.matching', { heading, q: result.q }) : heading;
  return (
    <Layout ctx={p.ctx} title={titled}>
      <h1>{t('layout.petitions')}</h1>
      <form method="get" action="/petitions" class="search-form" role="search">
        <input type="hidden" name="state" value={result.filter} />
        <label for="search-q">{t('browse.search_label')}</label>
        <div class="search-row">
          <input id="search-q" type="search" name="q" value={result.q} maxlength={200} />
          <button type="submit" class="button button-secondary">
            {t('browse.search')}
          </button>
        </div>
      </form>
      <nav aria-label={t('browse.states_label')}>
        <ul class="tabs">
          {FILTERS.map((f) => (
            <li>
              <a href={listUrl({ state: f, q: result.q })} aria-current={f === result.filter ? 'page' : undefined}>
                {t(`browse.filter_${f}`)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <p class="sort">
        {t('browse.sort')}{' '}
        {SORTS.filter((s) => s !== 'closing' || result.filter === 'open').map((s, i) => (
          <>
            {i > 0 ? ' · ' : ''}
            {s === result.sort ? <strong>{t(`browse.sort_${s}`)}</strong> : <a href={listUrl({ state: result.filter, sort: s, q: result.q })}>{t(`browse.sort_${s}`)}</a>}
          </>
        ))}
      </p>
      <h2>
        {titled} ({formatNumber(result.page.total)})
      </h2>
      {result.petitions.length === 0 ? (
        <p>{t('browse.none_found')}</p>
      ) : (
        <ol class="petition-list" start={(result.page.number - 1) * result.page.size + 1}>
          {result.petitions.map((petition) => (
            <PetitionItem petition={petition} timeZone={p.timeZone} now={p.now} />
          ))}
        </ol>
      )}
      {result.page.total_pages > 1 ? (
        <nav aria-label={t('browse.pages')} class="pagination">
          {result.page.number > 1 ? (
            <a rel="prev" href={listUrl({ state: result.filter, sort: result.sort, q: result.q, page: result.page.number - 1 })}>
              ← {t('browse.previous')}
            </a>
          ) : null}
          <span>{t('browse.page_of', { page: formatNumber(result.page.number), pages: formatNumber(result.page.total_pages) })}</span>
          {result.page.number < result.page.total_pages ? (
            <a rel="next" href={listUrl({ state: result.filter, sort: result.sort, q: result.q, page: result.page.number + 1 })}>
              {t('browse.next')} →
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
      {p.petitions.length === 0 ? <p>{t('home.none_open')}</p> : p.ordered ? <ol class="petition-list">{items}</ol> : <ul class="petition-list">{items}</ul>}
    </section>
  );
};

const HomePage = (p: { ctx: PageContext; popular: Petition[]; recent: Petition[]; closed: Petition[]; total: number; timeZone: string; now: Date }) => (
  <Layout ctx={p.ctx} title={p.ctx.siteName} description={t('home.description')}>
    <section class="hero">
      <h1>{t('home.heading')}</h1>
      <p>{t('home.intro')}</p>
      <p class="site-total">{t('home.site_total', { count: p.total, total: formatNumber(p.total) })}</p>
      <p>
        <a class="button button-primary" href="/petitions/new">
          {t('layout.start_petition')}
        </a>{' '}
        <a class="button button-secondary" href="/petitions">
          {t('home.browse')}
        </a>
      </p>
    </section>
    <div class="home-lists">
      <HomeList id="popular" title={t('browse.sort_popular')} petitions={p.popular} ordered timeZone={p.timeZone} now={p.now} />
      <HomeList id="recent" title={t('home.just_opened')} petitions={p.recent} timeZone={p.timeZone} now={p.now} />
    </div>
    {p.closed.length ? <HomeList id="closed" title={t('home.recently_closed')} petitions={p.closed} timeZone={p.timeZone} now={p.now} /> : null}
  </Layout>
);

export function registerBrowsePages(app: FastifyInstance, ctx: AppContext): void {
  const petitions = ctx.services.petitions;

  // Every visitor who is not signed in sees the same home page and lists: kept for a moment (see
  // sendSharedPage), as each is milliseconds of database work on a site of many petitions, and
  // a viral moment brings many visitors to the home page too.
  app.get('/', (request, reply) =>
    sendSharedPage(ctx, request, reply, '/', async (pageCtx) => {
      const [popular, recent, closed, total] = await Promise.all([
        petitions.listPublic({ state: 'open', sort: 'popular', per_page: 5 }),
        petitions.listPublic({ state: 'open', sort: 'newest', per_page: 5 }),
        petitions.listPublic({ state: 'closed', sort: 'newest', per_page: 5 }),
        petitions.siteSignatureTotal(),
      ]);
      return <HomePage ctx={pageCtx} popular={popular.petitions} recent={recent.petitions} closed={closed.petitions} total={total} timeZone={ctx.config.timeZone} now={ctx.clock()} />;
    }),
  );

  app.get('/petitions', async (request, reply) => {
    let result: PetitionPage;
    try {
      result = await petitions.listPublic(request.query);
    } catch (err) {
      // A hand-edited address (page=abc) falls back to the first page rather than an error.
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      result = await petitions.listPublic({});
    }
    const page = (pageCtx: PageContext) => <ListPage ctx={pageCtx} result={result} timeZone={ctx.config.timeZone} now={ctx.clock()} />;
    // A search is anyone's words: rendered for each, not kept.
    if (result.q) return sendPage(reply, page(await pageContext(ctx, request, reply)));
    return sendSharedPage(ctx, request, reply, listAddress(result), page);
  });
}
