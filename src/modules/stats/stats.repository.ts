import { type Insertable, sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { lockAgainstWriters, postcodeDistrict, rowChunks, utcHour } from '../../db/dialect.ts';
import type { SignatureRow, TallyEventsTable } from '../../db/schema.ts';
import { areaCodesOf, type AreaCodes } from '../geo/area-sets.repository.ts';

/** The ONS areas a UK signature is placed in, when the postcode directory has been imported. */
export const ONS_AREA_KINDS = ['constituency', 'local_authority', 'ward', 'region'] as const;
export type OnsAreaKind = (typeof ONS_AREA_KINDS)[number];

/** Every kind of area counted per petition. */
export const COUNTED_KINDS = ['country', 'postcode_district', ...ONS_AREA_KINDS] as const;
export type CountedKind = (typeof COUNTED_KINDS)[number];

/** What a count change needs of a signature: its country, postcode and set of ONS areas. */
export type TallySource = Pick<SignatureRow, 'country' | 'postcode' | 'area_set_id'>;

/** The district ("SW1A") of a stored UK postcode; the same rule as `postcodeDistrict` in SQL. */
export function districtOf(country: string, postcode: string | null): string | null {
  if (country !== 'GB' || !postcode) return null;
  return postcode.split(' ')[0]!;
}

/** The queued count change for one signature entering (+1) or leaving (−1) a petition's count. */
export function tallyEvent(petitionId: number, signature: Pick<SignatureRow, 'country' | 'postcode'>, areas: AreaCodes, delta: 1 | -1, confirmedAt: string): Insertable<TallyEventsTable> {
  return {
    petition_id: petitionId,
    delta,
    hour: confirmedAt.slice(0, 13),
    country: signature.country,
    postcode_district: districtOf(signature.country, signature.postcode),
    constituency: areas.constituency,
    local_authority: areas.local_authority,
    ward: areas.ward,
    region: areas.region,
  };
}

export interface AreaCountRow {
  kind: string;
  code: string;
  count: number;
  name: string | null;
  population: number | null;
}

/**
 * Per-area and per-hour counts of confirmed signatures. Confirmations and removals queue a tally
 * event in their own transaction (one small insert, no shared hot row); `fold` turns queued
 * events into counts in batches. Reads never touch the signature rows.
 */
export class StatsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Takes up to `limit` queued events, adds them to the counts and deletes them, in one
   * transaction. Safe to run from several processes at once: each event is taken once.
   * Returns how many were folded.
   */
  async fold(limit = 5000): Promise<number> {
    // Look before taking the write lock: most of the time there is nothing to fold.
    const any = await this.db.kysely.selectFrom('tally_events').select('id').limit(1).executeTakeFirst();
    if (!any) return 0;
    return this.db.kysely.transaction().execute(async (trx) => {
      const claimed = trx.selectFrom('tally_events').select('id').orderBy('id').limit(limit);
      const events = await trx
        .deleteFrom('tally_events')
        .where('id', 'in', this.db.kind === 'postgres' ? claimed.forUpdate().skipLocked() : claimed)
        .returningAll()
        .execute();
      if (events.length === 0) return 0;

      const areas = new Map<string, { petition_id: number; kind: string; code: string; count: number }>();
      const hours = new Map<string, { petition_id: number; hour: string; count: number }>();
      const add = (petitionId: number, kind: string, code: string | null, delta: number) => {
        if (!code) return;
        const key = `${petitionId}\u0000${kind}\u0000${code}`;
        const row = areas.get(key) ?? areas.set(key, { petition_id: petitionId, kind, code, count: 0 }).get(key)!;
        row.count += delta;
      };
      for (const e of events) {
        add(e.petition_id, 'country', e.country, e.delta);
        add(e.petition_id, 'postcode_district', e.postcode_district, e.delta);
        for (const kind of ONS_AREA_KINDS) add(e.petition_id, kind, e[kind], e.delta);
        const key = `${e.petition_id}\u0000${e.hour}`;
        const row = hours.get(key) ?? hours.set(key, { petition_id: e.petition_id, hour: e.hour, count: 0 }).get(key)!;
        row.count += e.delta;
      }
      // A fixed order: two folding processes never wait on each other's rows in opposite orders.
      const areaRows = [...areas.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row).filter((r) => r.count !== 0);
      const hourRows = [...hours.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row).filter((r) => r.count !== 0);
      for (const chunk of rowChunks(this.db.kind, areaRows, 200)) {
        await trx
          .insertInto('petition_area_counts')
          .values(chunk)
          .onConflict((oc) => oc.columns(['petition_id', 'kind', 'code']).doUpdateSet((eb) => ({ count: eb('petition_area_counts.count', '+', eb.ref('excluded.count')) })))
          .execute();
      }
      for (const chunk of rowChunks(this.db.kind, hourRows, 200)) {
        await trx
          .insertInto('petition_hourly_counts')
          .values(chunk)
          .onConflict((oc) => oc.columns(['petition_id', 'hour']).doUpdateSet((eb) => ({ count: eb('petition_hourly_counts.count', '+', eb.ref('excluded.count')) })))
          .execute();
      }
      return events.length;
    });
  }

  /** Folds until nothing is queued (tests, the CLI, and after a burst). Returns how many. */
  async foldAll(): Promise<number> {
    let total = 0;
    for (let n = await this.fold(); n > 0; n = await this.fold()) total += n;
    return total;
  }

  /** How many count changes are waiting to be folded. */
  async queued(): Promise<number> {
    const row = await this.db.kysely.selectFrom('tally_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** A petition's non-zero per-area counts, with each area's name and population where known. */
  async areaCounts(petitionId: number): Promise<AreaCountRow[]> {
    return this.db.kysely
      .selectFrom('petition_area_counts as c')
      .leftJoin('geo_areas as a', 'a.code', 'c.code')
      .select(['c.kind', 'c.code', 'c.count', 'a.name', 'a.population'])
      .where('c.petition_id', '=', petitionId)
      .where('c.count', '>', 0)
      .execute();
  }

  /** A petition's confirmed signatures per UTC hour, oldest first. */
  async hourlyCounts(petitionId: number): Promise<{ hour: string; count: number }[]> {
    return this.db.kysely
      .selectFrom('petition_hourly_counts')
      .select(['hour', 'count'])
      .where('petition_id', '=', petitionId)
      .where('count', '!=', 0)
      .orderBy('hour')
      .execute();
  }

  /**
   * Recomputes one petition's area and hourly counts from its signature rows, replacing the
   * counts and dropping its queued events, as one step (new events wait for it). For repairs and
   * after area codes were filled in by a postcode import: a full scan, never on a page view.
   */
  async rebuild(petitionId: number): Promise<void> {
    const kind = this.db.kind;
    await this.db.kysely.transaction().execute(async (trx) => {
      await lockAgainstWriters(kind, trx, 'tally_events');
      await trx.deleteFrom('tally_events').where('petition_id', '=', petitionId).execute();
      await trx.deleteFrom('petition_area_counts').where('petition_id', '=', petitionId).execute();
      await trx.deleteFrom('petition_hourly_counts').where('petition_id', '=', petitionId).execute();
      const confirmed = trx.selectFrom('signatures').where('petition_id', '=', petitionId).where('status', '=', 'confirmed');
      const groups: [string, ReturnType<typeof postcodeDistrict> | 'country', boolean][] = [
        ['country', 'country', false],
        ['postcode_district', postcodeDistrict(kind, 'postcode'), true],
      ];
      for (const [areaKind, expression, ukOnly] of groups) {
        const code = typeof expression === 'string' ? sql.ref(expression) : expression;
        let query = confirmed
          .select(['petition_id', sql.lit(areaKind).as('kind'), code.as('code'), (eb) => eb.fn.countAll<number>().as('count')])
          .where(code, 'is not', null)
          .groupBy(['petition_id', code]);
        if (ukOnly) query = query.where('country', '=', 'GB').where('postcode', 'is not', null);
        await trx.insertInto('petition_area_counts').columns(['petition_id', 'kind', 'code', 'count']).expression(query).execute();
      }
      // The ONS areas: signatures counted per set of areas once, then each set's areas summed.
      const perSet = await confirmed.select(['area_set_id', (eb) => eb.fn.countAll<number>().as('n')]).where('area_set_id', 'is not', null).groupBy('area_set_id').execute();
      const areasOf = await areaCodesOf(trx, perSet.map((r) => r.area_set_id));
      const areaRows = new Map<string, { petition_id: number; kind: string; code: string; count: number }>();
      for (const { area_set_id, n } of perSet) {
        const areas = areasOf(area_set_id);
        for (const areaKind of ONS_AREA_KINDS) {
          const code = areas[areaKind];
          if (code === null) continue;
          const key = `${areaKind}\u0000${code}`;
          const row = areaRows.get(key) ?? areaRows.set(key, { petition_id: petitionId, kind: areaKind, code, count: 0 }).get(key)!;
          row.count += Number(n);
        }
      }
      for (const chunk of rowChunks(kind, [...areaRows.values()], 200)) await trx.insertInto('petition_area_counts').values(chunk).execute();
      const hour = utcHour(kind, 'confirmed_at');
      await trx
        .insertInto('petition_hourly_counts')
        .columns(['petition_id', 'hour', 'count'])
        .expression(confirmed.select(['petition_id', hour.as('hour'), (eb) => eb.fn.countAll<number>().as('count')]).groupBy(['petition_id', hour]))
        .execute();
    });
  }

  /** Every petition with at least one signature (for a site-wide rebuild). */
  async petitionsWithSignatures(): Promise<number[]> {
    // Petition by petition along the (petition, time) index: a distinct over the signatures would
    // read every one of them.
    const rows = await this.db.kysely
      .selectFrom('petitions')
      .select('id')
      .where((eb) => eb.exists(eb.selectFrom('signatures').select('signatures.id').whereRef('signatures.petition_id', '=', 'petitions.id')))
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }
}
