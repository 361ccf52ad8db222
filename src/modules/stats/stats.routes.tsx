import { currentLanguage, currentLocale, t } from '../../i18n/i18n.ts';
import { countryName } from '../../lib/countries.ts';
import { openInPetitionLanguage, petitionText } from '../petitions/petition-text.ts';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { GeoAreaKind as GeoKind } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';
import { formatNumber } from '../../views/components.tsx';
import { Layout } from '../../views/layout.tsx';
import { localisedPageKey } from '../../views/page-cache.ts';
import { sendSharedDocument, sendSharedPage } from '../../views/pages.tsx';
import { renderMarkup } from '../../views/render.ts';
import { neutraliseCell } from '../handin/handin.service.ts';
import { SlugParams } from '../petitions/petitions.schema.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import { CumulativeChart, PeriodChart, periodLabel } from './stats.charts.tsx';
import { ChoroplethMap, RankedBars, type MapMeasure } from './stats.map.tsx';
import { areaKindLabel, AREA_KINDS, defaultAreaKind, type AreaCount, type AreaKind } from './stats.service.ts';

const AreaCountOutput = z.object({
  code: z.string(),
  name: z.string(),
  count: z.number().int(),
  population: z.number().int().nullable(),
  per_100k: z.number().nullable(),
});

const StatsOutput = z.object({
  signature_count: z.number().int(),
  by_country: z.array(z.object({ code: z.string(), name: z.string(), count: z.number().int() })),
  by_area: z.object(Object.fromEntries(AREA_KINDS.map((k) => [k, z.array(AreaCountOutput)])) as Record<AreaKind, z.ZodArray<typeof AreaCountOutput>>),
  resolution: z.enum(['hour', 'day']),
  timeline: z.array(z.object({ t: z.string(), count: z.number().int(), cumulative: z.number().int() })),
  as_of: z.string(),
});

const StatsQuery = z.object({ resolution: z.enum(['hour', 'day']).optional() });

/** The stats page's choices; anything unexpected falls back to the default rather than failing. */
const StatsPageQuery = z.object({
  map: z.enum(AREA_KINDS as [AreaKind, ...AreaKind[]]).optional().catch(undefined),
  measure: z.enum(['count', 'per_100k']).optional().catch(undefined),
  resolution: z.enum(['hour', 'day']).optional().catch(undefined),
});

const statsPath = (petition: Pick<Petition, 'slug'>, suffix = '') => `/petitions/${encodeURIComponent(petition.slug)}${suffix}`;

/** A ranked table of counts (the top 50), with signatures per 100,000 people where known. */
const AreaTable = (p: { id: string; title: string; column: string; rows: AreaCount[] }) => {
  const perHead = p.rows.some((r) => r.per_100k !== null);
  return (
    <section aria-labelledby={`${p.id}-title`}>
      <h3 id={`${p.id}-title`}>{p.title}</h3>
      {p.rows.length === 0 ? (
        <p>{t('stats.none_yet')}</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{p.column}</th>
              <th scope="col" class="num">
                {t('petition.signatures')}
              </th>
              {perHead ? (
                <th scope="col" class="num">
                  {t('stats.per_100k_people')}
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {p.rows.slice(0, 50).map((r) => (
              <tr>
                <td>{r.code === r.name ? r.name : `${r.name} (${r.code})`}</td>
                <td class="num">{formatNumber(r.count)}</td>
                {perHead ? <td class="num">{r.per_100k === null ? '–' : r.per_100k.toLocaleString(currentLocale())}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {p.rows.length > 50 ? <p class="meta">{t('stats.top_50', { n: formatNumber(p.rows.length) })}</p> : null}
    </section>
  );
};

/** Where and when people signed: the stats page and map, the JSON and CSV, and the live count stream. */
export function registerStatsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { petitions, stats, milestones, maps, liveCounts } = ctx.services;
  const api = app.withTypeProvider<ZodTypeProvider>();
  // Open event streams would otherwise hold the server open at shutdown.
  app.addHook('preClose', async () => liveCounts.closeAll());

  api.get('/api/v1/petitions/:slug/stats', { schema: { params: SlugParams, querystring: StatsQuery, response: { 200: StatsOutput } } }, async (request, reply) => {
    const petition = await petitions.recentPublic(request.params.slug);
    reply.header('cache-control', 'public, max-age=5');
    return stats.forPetition(petition, request.query.resolution);
  });

  api.get('/api/v1/petitions/:slug/stats.csv', { schema: { params: SlugParams, querystring: StatsQuery } }, async (request, reply) => {
    const petition = await petitions.getForViewer(request.params.slug, null);
    const s = await stats.forPetition(petition, request.query.resolution);
    const rows = [
      ['kind', 'code', 'name', 'count', 'population', 'per_100k'],
      ...s.by_country.map((c) => ['country', c.code, c.name, String(c.count), '', '']),
      ...AREA_KINDS.flatMap((kind) => s.by_area[kind].map((a) => [kind, a.code, a.name, String(a.count), a.population === null ? '' : String(a.population), a.per_100k === null ? '' : String(a.per_100k)])),
      ...s.timeline.map((d) => [s.resolution, d.t, '', String(d.count), '', '']),
    ];
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${petition.slug}-stats.csv"`)
      .send(rows.map((r) => r.map((cell) => csvCell(neutraliseCell(cell))).join(',')).join('\n') + '\n');
  });

  app.get('/petitions/:slug/stats', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const petition = request.user ? await petitions.getForViewer(slug, request.user) : await petitions.recentPublic(slug);
    openInPetitionLanguage(request, petition);
    const query = StatsPageQuery.parse(request.query);
    // Journalists and the curious follow a viral petition's "where and when" link too: every
    // visitor not signed in sees the same page for the same view, so it is rendered (its reads,
    // every area's outline) once a moment per view and language, like the petition page.
    const view = new URLSearchParams(Object.entries(query).flatMap(([key, value]): [string, string][] => (value === undefined ? [] : [[key, value]])));
    const address = `${statsPath(petition, '/stats')}${view.size > 0 ? `?${view}` : ''}`;
    return sendSharedPage(ctx, request, reply, address, async (pageCtx) => {
      const [s, reached, mapKinds] = await Promise.all([stats.forPetition(petition, query.resolution), milestones.list(petition), maps.available()]);
      const kinds = AREA_KINDS.filter((k) => s.by_area[k].length > 0);
      const kind = query.map && kinds.includes(query.map) ? query.map : defaultAreaKind(s);
      const areas = s.by_area[kind];
      const perHeadKnown = areas.some((a) => a.per_100k !== null);
      const measure: MapMeasure = query.measure === 'per_100k' && perHeadKnown ? 'per_100k' : 'count';
      const outlines = mapKinds.includes(kind as GeoKind) ? await maps.outlines(kind as GeoKind) : null;
      const link = (changes: Record<string, string>) => {
        const params = new URLSearchParams({ map: kind, measure, ...(query.resolution ? { resolution: query.resolution } : {}), ...changes });
        return `${statsPath(petition, '/stats')}?${params}`;
      };
      // A function: its text is made as the page renders, in the visitor's language.
      return () => (
        <Layout ctx={pageCtx} title={t('stats.page_title', { title: petitionText(petition).title })}>
          <p>
            <a href={statsPath(petition)}>← {petitionText(petition).title}</a>
          </p>
          <h1>{t('petition.where_and_when')}</h1>
          <p>
            {t('stats.confirmed', { count: s.signature_count, n: formatNumber(s.signature_count) })} {t('stats.download')}{' '}
            <a href={`/api/v1/petitions/${encodeURIComponent(petition.slug)}/stats.csv`}>CSV</a> {t('stats.or')}{' '}
            <a href={`/api/v1/petitions/${encodeURIComponent(petition.slug)}/stats`}>JSON</a>.
          </p>

          <h2 id="where">{t('stats.where')}</h2>
          {kinds.length > 1 ? (
            <nav aria-label={t('stats.kind_of_area')} class="view-choices">
              <span>{t('stats.show_by')} </span>
              {kinds.map((k) =>
                k === kind ? (
                  <strong aria-current="true">{areaKindLabel(k).plural}</strong>
                ) : (
                  <a href={`${link({ map: k, measure: 'count' })}#where`}>{areaKindLabel(k).plural}</a>
                ),
              )}
            </nav>
          ) : null}
          {perHeadKnown ? (
            <nav aria-label={t('stats.measure')} class="view-choices">
              <span>{t('stats.shade_by')} </span>
              {measure === 'count' ? <strong aria-current="true">{t('petition.signatures')}</strong> : <a href={`${link({ measure: 'count' })}#where`}>{t('petition.signatures')}</a>}
              {measure === 'per_100k' ? (
                <strong aria-current="true">{t('stats.signatures_per_100k')}</strong>
              ) : (
                <a href={`${link({ measure: 'per_100k' })}#where`}>{t('stats.signatures_per_100k')}</a>
              )}
            </nav>
          ) : null}
          {areas.length === 0 && s.by_country.length === 0 ? <p>{t('stats.no_signatures')}</p> : null}
          <div class="map-layout">
            {outlines ? (
              <figure class="map-figure">
                <ChoroplethMap kind={kind} outlines={outlines} areas={areas} measure={measure} />
              </figure>
            ) : areas.length > 0 ? (
              <figure class="chart-figure">
                <RankedBars kind={kind} areas={areas} />
              </figure>
            ) : null}
            <div class="home-lists">
              <AreaTable id="areas" title={areaKindLabel(kind).plural} column={areaKindLabel(kind).singular} rows={measure === 'per_100k' ? [...areas].sort((a, b) => (b.per_100k ?? -1) - (a.per_100k ?? -1)) : areas} />
              <AreaTable
                id="countries"
                title={t('stats.countries')}
                column={t('sign.country')}
                rows={s.by_country.map((c) => ({ ...c, name: countryName(c.code, currentLanguage()), population: null, per_100k: null }))}
              />
            </div>
          </div>

          <h2 id="when">{t('stats.when')}</h2>
          {s.timeline.length > 0 ? (
            <>
              <nav aria-label={t('stats.time_period')} class="view-choices">
                <span>{t('stats.count_per')} </span>
                {s.resolution === 'hour' ? <strong aria-current="true">{t('stats.hour_utc')}</strong> : <a href={`${link({ resolution: 'hour' })}#when`}>{t('stats.hour_utc')}</a>}
                {s.resolution === 'day' ? <strong aria-current="true">{t('stats.day')}</strong> : <a href={`${link({ resolution: 'day' })}#when`}>{t('stats.day')}</a>}
              </nav>
              <figure class="chart-figure">
                <CumulativeChart stats={s} milestones={reached.filter((m) => m.kind === 'count')} />
              </figure>
              <figure class="chart-figure">
                <PeriodChart stats={s} />
              </figure>
              <details>
                <summary>{t('stats.figures')}</summary>
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">{s.resolution === 'hour' ? t('stats.hour_column') : t('stats.day_column')}</th>
                      <th scope="col" class="num">
                        {t('petition.signatures')}
                      </th>
                      <th scope="col" class="num">
                        {t('stats.running_total')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.timeline
                      .filter((p) => p.count > 0)
                      .map((p) => (
                        <tr>
                          <td>{periodLabel(p.t, s.resolution)}</td>
                          <td class="num">{formatNumber(p.count)}</td>
                          <td class="num">{formatNumber(p.cumulative)}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </details>
            </>
          ) : (
            <p>{t('stats.no_signatures')}</p>
          )}
        </Layout>
      );
    });
  });

  // The map alone, for the petition page and for printing: areas shaded by signatures.
  app.get('/petitions/:slug/map.svg', async (request, reply) => {
    const petition = await petitions.recentPublic((request.params as { slug: string }).slug);
    const query = StatsPageQuery.parse(request.query);
    const measure: MapMeasure = query.measure === 'per_100k' ? 'per_100k' : 'count';
    // The petition page shows the map to every visitor once boundaries are imported: rendered
    // (every area's outline, escaped) and compressed once a moment per petition, map and
    // language, like the page itself, instead of once a visitor.
    return sendSharedDocument(ctx, reply.header('cache-control', 'public, max-age=60'), localisedPageKey(request, `map:${petition.id}:${query.map ?? ''}:${measure}`), 'image/svg+xml; charset=utf-8', async () => {
      const [s, mapKinds] = await Promise.all([stats.forPetition(petition), maps.available()]);
      const kind = query.map ?? defaultAreaKind(s);
      const outlines = mapKinds.includes(kind as GeoKind) ? await maps.outlines(kind as GeoKind) : null;
      if (!outlines) throw new AppError('not_found', 'There is no map of these areas.');
      const svg = renderMarkup(request, <ChoroplethMap kind={kind} outlines={outlines} areas={s.by_area[kind]} measure={measure} />);
      return `<?xml version="1.0" encoding="UTF-8"?>\n${svg}`;
    });
  });

  // The count as Server-Sent Events: the petition page updates itself while it is open.
  app.get('/petitions/:slug/live', async (request, reply) => {
    const petition = await petitions.recentPublic((request.params as { slug: string }).slug);
    // 204 tells EventSource to stop: only open petitions change.
    if (petition.state !== 'open') return reply.status(204).send();
    const res = reply.raw;
    const unsubscribe = liveCounts.subscribe(petition.id, petition.signatureCount, (count) => res.write(countEvent(count)), () => res.end());
    if (!unsubscribe) {
      reply.header('retry-after', '30');
      throw new AppError('service_unavailable', 'Too many people are watching live counts; the page still shows the count.');
    }
    // Written straight to the connection, with no stream in between: at a peak every change of
    // the count is a write to each of thousands of viewers (docs/performance.md, "2026-12-07,
    // towards midnight"). Fastify's headers (the security headers) go with it.
    reply.hijack();
    res.writeHead(200, { ...(reply.getHeaders() as OutgoingHttpHeaders), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(`retry: 5000\n${countEvent(petition.signatureCount)}`);
    const heartbeat = setInterval(() => res.write(': still here\n\n'), 25_000);
    res.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
}

/** The last event made: every viewer of a petition is sent the same one when its count changes. */
let lastEvent = { count: -1, text: '' };

/** A count as a Server-Sent Event, made once for all the viewers it goes to. */
function countEvent(count: number): string {
  if (lastEvent.count !== count) lastEvent = { count, text: `event: count\ndata: {"signature_count":${count}}\n\n` };
  return lastEvent.text;
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
