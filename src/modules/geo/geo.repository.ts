import { type ExpressionBuilder, type Insertable, sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Database, GeoAreaKind, GeoPostcodesTable } from '../../db/schema.ts';
import { areaSetIds, areaSetKey, type AreaCodes } from './area-sets.repository.ts';

/** UK postcodes and the areas, names, populations and boundaries imported from ONS files. */
export class GeoRepository {
  constructor(private readonly db: Db) {}

  /**
   * Adds or replaces postcodes (one batch, one transaction), each with the set of areas that a
   * signature from it will record (see area-sets.repository.ts).
   */
  async upsertPostcodes(rows: Omit<Insertable<GeoPostcodesTable>, 'area_set_id'>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.kysely.transaction().execute(async (trx) => {
      const codes = (r: (typeof rows)[number]): AreaCodes => ({ constituency: r.constituency ?? null, local_authority: r.local_authority ?? null, ward: r.ward ?? null, region: r.region ?? null });
      const ids = await areaSetIds(trx, rows.map(codes));
      for (let i = 0; i < rows.length; i += 1000) {
        await trx
          .insertInto('geo_postcodes')
          .values(rows.slice(i, i + 1000).map((r) => ({ ...r, area_set_id: ids.get(areaSetKey(codes(r)) ?? '') ?? null })))
          .onConflict((oc) =>
            oc.column('postcode').doUpdateSet((eb) => ({
              country: eb.ref('excluded.country'),
              region: eb.ref('excluded.region'),
              constituency: eb.ref('excluded.constituency'),
              local_authority: eb.ref('excluded.local_authority'),
              ward: eb.ref('excluded.ward'),
              area_set_id: eb.ref('excluded.area_set_id'),
            })),
          )
          .execute();
      }
    });
  }

  /** Records areas by code; a name or population given replaces the one held, a null keeps it. */
  async upsertAreas(rows: { code: string; kind: GeoAreaKind; name?: string | null; population?: number | null }[]): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .insertInto('geo_areas')
          .values(rows.slice(i, i + 500).map((r) => ({ code: r.code, kind: r.kind, name: r.name ?? null, population: r.population ?? null })))
          .onConflict((oc) =>
            oc.column('code').doUpdateSet((eb) => ({
              kind: eb.ref('excluded.kind'),
              name: eb.fn.coalesce('excluded.name', 'geo_areas.name'),
              population: eb.fn.coalesce('excluded.population', 'geo_areas.population'),
            })),
          )
          .execute();
      }
    });
  }

  async upsertBoundaries(rows: { code: string; kind: GeoAreaKind; geometry: string }[]): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      for (const row of rows) {
        await trx
          .insertInto('geo_boundaries')
          .values(row)
          .onConflict((oc) => oc.column('code').doUpdateSet((eb) => ({ kind: eb.ref('excluded.kind'), geometry: eb.ref('excluded.geometry') })))
          .execute();
      }
    });
  }

  /** Every boundary of one kind of area, with the area's name where known. */
  async boundaries(kind: GeoAreaKind): Promise<{ code: string; geometry: string; name: string | null }[]> {
    return this.db.kysely
      .selectFrom('geo_boundaries as b')
      .leftJoin('geo_areas as a', 'a.code', 'b.code')
      .select(['b.code', 'b.geometry', 'a.name'])
      .where('b.kind', '=', kind)
      .orderBy('b.code')
      .execute();
  }

  /** The kinds of area that have boundaries to draw. */
  async boundaryKinds(): Promise<GeoAreaKind[]> {
    const rows = await this.db.kysely.selectFrom('geo_boundaries').select('kind').distinct().execute();
    return rows.map((r) => r.kind);
  }

  /** How many postcodes are held (0 until an ONS directory is imported). */
  async countPostcodes(): Promise<number> {
    const row = await this.db.kysely.selectFrom('geo_postcodes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Gives signatures taken before their postcode was known the areas it lies in. Returns the
   * petitions whose signatures changed (their area counts need a rebuild).
   */
  async fillSignatureAreas(): Promise<number[]> {
    const known = (eb: ExpressionBuilder<Database, 'signatures'>) =>
      eb.exists(eb.selectFrom('geo_postcodes as g').select('g.postcode').whereRef('g.postcode', '=', 'signatures.postcode').where('g.area_set_id', 'is not', null));
    const unresolved = this.db.kysely.selectFrom('signatures').where('country', '=', 'GB').where('area_set_id', 'is', null).where(known);
    const petitions = await unresolved.select('petition_id').distinct().execute();
    if (petitions.length === 0) return [];
    await this.db.kysely
      .updateTable('signatures')
      .set({ area_set_id: this.db.kysely.selectFrom('geo_postcodes as g').select('g.area_set_id').where('g.postcode', '=', sql.ref<string>('signatures.postcode')) })
      .where('country', '=', 'GB')
      .where('area_set_id', 'is', null)
      .where(known)
      .execute();
    return petitions.map((p) => p.petition_id);
  }
}
