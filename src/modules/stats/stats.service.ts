import type { Db } from '../../db/database.ts';
import { utcDay } from '../../db/dialect.ts';
import { areaOf } from '../../lib/areas.ts';
import { countryName } from '../../lib/countries.ts';
import type { Petition } from '../petitions/petitions.service.ts';

export interface PetitionStats {
  signature_count: number;
  by_country: { code: string; name: string; count: number }[];
  by_area: { postcode_district: { area: string; count: number }[] };
  timeline: { t: string; count: number; cumulative: number }[];
}

const CACHE_MS = 60_000;

/**
 * Where signers are and when they signed, as counts only. Computed from the signature rows and
 * kept for a minute per petition. (Incrementally maintained area and hourly counters, and the
 * ONS areas, are the next step: see the "where and when" issue.)
 */
export class StatsService {
  private cache = new Map<number, { at: number; stats: PetitionStats }>();

  constructor(private readonly db: Db) {}

  async forPetition(petition: Petition): Promise<PetitionStats> {
    const cached = this.cache.get(petition.id);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.stats;
    const [places, days] = await Promise.all([
      this.db.kysely
        .selectFrom('signatures')
        .select(['country', 'postcode', (eb) => eb.fn.countAll<number>().as('n')])
        .where('petition_id', '=', petition.id)
        .where('status', '=', 'confirmed')
        .groupBy(['country', 'postcode'])
        .execute(),
      this.db.kysely
        .selectFrom('signatures')
        .select([utcDay(this.db.kind, 'confirmed_at').as('day'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('petition_id', '=', petition.id)
        .where('status', '=', 'confirmed')
        .groupBy(utcDay(this.db.kind, 'confirmed_at'))
        .orderBy(utcDay(this.db.kind, 'confirmed_at'))
        .execute(),
    ]);
    const countries = new Map<string, number>();
    const districts = new Map<string, number>();
    for (const p of places) {
      countries.set(p.country, (countries.get(p.country) ?? 0) + Number(p.n));
      if (p.country === 'GB') {
        const area = areaOf('GB', p.postcode);
        districts.set(area, (districts.get(area) ?? 0) + Number(p.n));
      }
    }
    let cumulative = 0;
    const stats: PetitionStats = {
      signature_count: [...countries.values()].reduce((a, b) => a + b, 0),
      by_country: [...countries].map(([code, count]) => ({ code, name: countryName(code), count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
      by_area: { postcode_district: [...districts].map(([area, count]) => ({ area, count })).sort((a, b) => b.count - a.count || a.area.localeCompare(b.area)) },
      timeline: days.map((d) => ({ t: String(d.day), count: Number(d.n), cumulative: (cumulative += Number(d.n)) })),
    };
    this.cache.set(petition.id, { at: Date.now(), stats });
    return stats;
  }
}

/** A cumulative-signatures chart as SVG: readable and printable without JavaScript. */
export function timelineSvg(stats: PetitionStats, milestones: { threshold: number; reachedAt: string }[]): string {
  const width = 720;
  const height = 280;
  const pad = { left: 60, right: 20, top: 20, bottom: 40 };
  const points = stats.timeline;
  if (points.length === 0) return '';
  const max = Math.max(1, points.at(-1)!.cumulative);
  const x = (i: number) => pad.left + (points.length === 1 ? 0 : (i / (points.length - 1)) * (width - pad.left - pad.right));
  const y = (v: number) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.cumulative).toFixed(1)}`).join(' ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const marks = milestones
    .filter((m) => m.threshold <= max)
    .map((m) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(m.threshold).toFixed(1)}" y2="${y(m.threshold).toFixed(1)}" stroke="#b1b4b6" stroke-dasharray="4 4"/><text x="${width - pad.right}" y="${(y(m.threshold) - 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#505a5f">${m.threshold.toLocaleString('en-GB')}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc" class="chart">
<title id="chart-title">Signatures over time</title>
<desc id="chart-desc">${esc(`From ${points[0]!.t} to ${points.at(-1)!.t}, rising to ${max.toLocaleString('en-GB')} confirmed signatures.`)}</desc>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#1d1d1f"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#1d1d1f"/>
<text x="${pad.left - 8}" y="${pad.top + 4}" text-anchor="end" font-size="12">${max.toLocaleString('en-GB')}</text>
<text x="${pad.left - 8}" y="${height - pad.bottom}" text-anchor="end" font-size="12">0</text>
<text x="${pad.left}" y="${height - 12}" font-size="12">${esc(points[0]!.t)}</text>
<text x="${width - pad.right}" y="${height - 12}" text-anchor="end" font-size="12">${esc(points.at(-1)!.t)}</text>
${marks}<path d="${line}" fill="none" stroke="#00703c" stroke-width="3"/>
</svg>`;
}
