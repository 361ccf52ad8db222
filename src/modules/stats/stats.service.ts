import { countryName } from '../../lib/countries.ts';
import { t } from '../../i18n/i18n.ts';
import { BUILT_IN_AREA_NAMES, POSTCODE_AREAS, postcodeAreaOf } from '../../lib/postcode-areas.ts';
import type { Clock } from '../../lib/time.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import { ONS_AREA_KINDS, type OnsAreaKind, type StatsRepository } from './stats.repository.ts';

export interface AreaCount {
  code: string;
  name: string;
  count: number;
  /** People living in the area, where an ONS population file was imported. */
  population: number | null;
  /** Signatures per 100,000 people, where the population is known. */
  per_100k: number | null;
}

export type AreaKind = 'postcode_area' | 'postcode_district' | OnsAreaKind;
export const AREA_KINDS: readonly AreaKind[] = ['postcode_area', 'postcode_district', ...ONS_AREA_KINDS];

export type Resolution = 'hour' | 'day';

export interface PetitionStats {
  signature_count: number;
  by_country: { code: string; name: string; count: number }[];
  /** Each kind of area, most signatures first; ONS kinds are empty until a postcode directory is imported. */
  by_area: Record<AreaKind, AreaCount[]>;
  resolution: Resolution;
  /** Confirmed signatures per period (UTC hours, or days in the site's time zone), with the running total. */
  timeline: { t: string; count: number; cumulative: number }[];
  /** When these figures were read; area and time figures trail the count by a few seconds. */
  as_of: string;
}

/** Human names for each kind of area. */
/** What a kind of area is called in the current language ("Constituencies", "Etholaethau"). */
export function areaKindLabel(kind: AreaKind): { plural: string; singular: string; lower: string } {
  return { plural: t(`areas.${kind}.plural`), singular: t(`areas.${kind}.singular`), lower: t(`areas.${kind}.lower`) };
}

const CACHE_MS = 5_000;

/** The area kind shown first: constituencies once an ONS directory is imported, postcode areas before. */
export function defaultAreaKind(stats: PetitionStats): AreaKind {
  return stats.by_area.constituency.length > 0 ? 'constituency' : 'postcode_area';
}

/**
 * Where signers are and when they signed, as counts only, read from the incrementally kept area
 * and hourly counts (see StatsRepository) and held for a few seconds per petition and resolution.
 */
export class StatsService {
  private cache = new Map<string, { at: number; stats: PetitionStats }>();

  constructor(
    private readonly stats: StatsRepository,
    private readonly clock: Clock,
    private readonly options: { timeZone: string },
  ) {}

  /** Folds queued count changes into the area and hourly counts (the worker runs this every few seconds). */
  fold(): Promise<number> {
    return this.stats.foldAll();
  }

  async forPetition(petition: Petition, requested?: Resolution): Promise<PetitionStats> {
    const key = `${petition.id}:${requested ?? ''}`;
    const now = this.clock().getTime();
    const cached = this.cache.get(key);
    if (cached && now - cached.at < CACHE_MS) return cached.stats;
    const [areaRows, hours] = await Promise.all([this.stats.areaCounts(petition.id), this.stats.hourlyCounts(petition.id)]);

    const byKind = new Map<string, AreaCount[]>();
    const push = (kind: string, area: AreaCount) => (byKind.get(kind) ?? byKind.set(kind, []).get(kind)!).push(area);
    const postcodeAreas = new Map<string, number>();
    const countries: PetitionStats['by_country'] = [];
    for (const row of areaRows) {
      const count = Number(row.count);
      if (row.kind === 'country') {
        countries.push({ code: row.code, name: countryName(row.code), count });
        continue;
      }
      if (row.kind === 'postcode_district') {
        const area = postcodeAreaOf(row.code);
        postcodeAreas.set(area, (postcodeAreas.get(area) ?? 0) + count);
      }
      const population = row.population === null ? null : Number(row.population);
      push(row.kind, {
        code: row.code,
        name: row.name ?? BUILT_IN_AREA_NAMES[row.code] ?? row.code,
        count,
        population,
        per_100k: population ? Math.round((count / population) * 100_000 * 10) / 10 : null,
      });
    }
    for (const [code, count] of postcodeAreas) {
      push('postcode_area', { code, name: POSTCODE_AREAS[code] ?? code, count, population: null, per_100k: null });
    }
    const ranked = <T extends { count: number; name: string }>(list: T[]) => list.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    const by_area = Object.fromEntries(AREA_KINDS.map((kind) => [kind, ranked(byKind.get(kind) ?? [])])) as Record<AreaKind, AreaCount[]>;

    const resolution = requested ?? defaultResolution(hours);
    const stats: PetitionStats = {
      signature_count: petition.signatureCount,
      by_country: ranked(countries),
      by_area,
      resolution,
      timeline: timeline(hours, resolution, this.options.timeZone),
      as_of: new Date(now).toISOString(),
    };
    this.cache.set(key, { at: now, stats });
    if (this.cache.size > 10_000) this.cache.clear();
    return stats;
  }
}

/** Hours for a petition that has been signed over three days or less, days after that. */
function defaultResolution(hours: { hour: string }[]): Resolution {
  if (hours.length === 0) return 'day';
  const span = Date.parse(`${hours.at(-1)!.hour}:00:00Z`) - Date.parse(`${hours[0]!.hour}:00:00Z`);
  return span <= 72 * 3_600_000 ? 'hour' : 'day';
}

/** Groups UTC hours into hours or the site's calendar days, filling quiet periods with zeros. */
function timeline(hours: { hour: string; count: number }[], resolution: Resolution, timeZone: string): PetitionStats['timeline'] {
  if (hours.length === 0) return [];
  const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const periodOf = (hour: string) => (resolution === 'hour' ? `${hour}:00:00Z` : dayOf.format(new Date(`${hour}:00:00Z`)));
  const counts = new Map<string, number>();
  for (const h of hours) counts.set(periodOf(h.hour), (counts.get(periodOf(h.hour)) ?? 0) + Number(h.count));
  const periods: string[] = [];
  const first = Date.parse(`${hours[0]!.hour}:00:00Z`);
  const last = Date.parse(`${hours.at(-1)!.hour}:00:00Z`);
  for (let t = first; t <= last; t += 3_600_000) {
    const period = periodOf(new Date(t).toISOString().slice(0, 13));
    if (periods.at(-1) !== period) periods.push(period);
  }
  let cumulative = 0;
  return periods.map((t) => {
    const count = counts.get(t) ?? 0;
    return { t, count, cumulative: (cumulative += count) };
  });
}
