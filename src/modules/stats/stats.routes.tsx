import type { FastifyInstance } from 'fastify';
import { raw } from 'hono/html';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { formatNumber } from '../../views/components.tsx';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { SlugParams } from '../petitions/petitions.schema.ts';
import { neutraliseCell } from '../handin/handin.service.ts';
import { timelineSvg } from './stats.service.ts';

const StatsOutput = z.object({
  signature_count: z.number().int(),
  by_country: z.array(z.object({ code: z.string(), name: z.string(), count: z.number().int() })),
  by_area: z.object({ postcode_district: z.array(z.object({ area: z.string(), count: z.number().int() })) }),
  timeline: z.array(z.object({ t: z.string(), count: z.number().int(), cumulative: z.number().int() })),
});

/** A ranked table of counts (the top 50). */
const CountTable = (p: { id: string; title: string; column: string; rows: [string, number][] }) => (
  <section aria-labelledby={`${p.id}-title`}>
    <h2 id={`${p.id}-title`}>{p.title}</h2>
    <table class="table">
      <thead>
        <tr>
          <th scope="col">{p.column}</th>
          <th scope="col" class="num">
            Signatures
          </th>
        </tr>
      </thead>
      <tbody>
        {p.rows.slice(0, 50).map(([key, count]) => (
          <tr>
            <td>{key}</td>
            <td class="num">{formatNumber(count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </section>
);

/** Where and when people signed: the stats page, the JSON and the CSV. Counts only, never people. */
export function registerStatsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { petitions, stats, milestones } = ctx.services;
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/v1/petitions/:slug/stats', { schema: { params: SlugParams, response: { 200: StatsOutput } } }, async (request, reply) => {
    const petition = await petitions.getForViewer(request.params.slug, null);
    reply.header('cache-control', 'public, max-age=60');
    return stats.forPetition(petition);
  });

  api.get('/api/v1/petitions/:slug/stats.csv', { schema: { params: SlugParams } }, async (request, reply) => {
    const petition = await petitions.getForViewer(request.params.slug, null);
    const s = await stats.forPetition(petition);
    const rows = [
      ['kind', 'key', 'count'],
      ...s.by_country.map((c) => ['country', c.code, String(c.count)]),
      ...s.by_area.postcode_district.map((a) => ['postcode_district', a.area, String(a.count)]),
      ...s.timeline.map((d) => ['day', d.t, String(d.count)]),
    ];
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${petition.slug}-stats.csv"`)
      .send(rows.map((r) => r.map(neutraliseCell).join(',')).join('\n') + '\n');
  });

  app.get('/petitions/:slug/stats', async (request, reply) => {
    const petition = await petitions.getForViewer((request.params as { slug: string }).slug, request.user);
    const [s, reached] = await Promise.all([stats.forPetition(petition), milestones.list(petition)]);
    const chart = timelineSvg(s, reached.filter((m) => m.kind === 'count'));
    const page = (
      <Layout ctx={await pageContext(ctx, request, reply)} title={`Where and when people signed: ${petition.title}`}>
        <p>
          <a href={`/petitions/${encodeURIComponent(petition.slug)}`}>← {petition.title}</a>
        </p>
        <h1>Where and when people signed</h1>
        <p>
          {formatNumber(s.signature_count)} confirmed signatures. Figures are counts only and are refreshed every minute.{' '}
          <a href={`/api/v1/petitions/${encodeURIComponent(petition.slug)}/stats.csv`}>Download as CSV</a>
        </p>
        <h2>Over time</h2>
        {chart ? <figure class="chart-figure">{raw(chart)}</figure> : <p>No confirmed signatures yet.</p>}
        <div class="home-lists">
          <CountTable id="areas" title="UK postcode districts" column="District" rows={s.by_area.postcode_district.map((a) => [a.area, a.count])} />
          <CountTable id="countries" title="Countries" column="Country" rows={s.by_country.map((c) => [c.name, c.count])} />
        </div>
      </Layout>
    );
    return sendPage(reply, page);
  });
}
