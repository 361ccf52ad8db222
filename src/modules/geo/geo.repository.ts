import { type Insertable, sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { GeoAreaKind, GeoPostcodesTable } from '../../db/schema.ts';

/** UK postcodes and the areas, names, populations and boundaries imported from ONS files. */
export class GeoRepository {
  constructor(private readonly db: Db) {}

  /** Adds or replaces postcodes (one batch, one transaction). */
  async upsertPostcodes(rows: Insertable<GeoPostcodesTable>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 1000) {
        await trx
          .insertInto('geo_postcodes')
          .values(rows.slice(i, i + 1000))
          .onConflict((oc) =>
            oc.column('postcode').doUpdateSet((eb) => ({
              country: eb.ref('excluded.country'),
              region: eb.ref('excluded.region'),
              constituency: eb.ref('excluded.constituency'),
              local_authority: eb.ref('excluded.local_authority'),
              ward: eb.ref('excluded.ward'),
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
    const unresolved = this.db.kysely
      .selectFrom('signatures')
      .where('country', '=', 'GB')
      .where('constituency', 'is', null)
      .where('local_authority', 'is', null)
      .where('ward', 'is', null)
      .where('region', 'is', null)
      .where((eb) => eb.exists(eb.selectFrom('geo_postcodes as g').select('g.postcode').whereRef('g.postcode', '=', 'signatures.postcode')));
    const petitions = await unresolved.select('petition_id').distinct().execute();
    if (petitions.length === 0) return [];
    const area = (column: 'constituency' | 'local_authority' | 'ward' | 'region') =>
      this.db.kysely.selectFrom('geo_postcodes as g').select(`g.${column}`).where('g.postcode', '=', sql.ref<string>('signatures.postcode'));
    await this.db.kysely
      .updateTable('signatures')
      .set({ constituency: area('constituency'), local_authority: area('local_authority'), ward: area('ward'), region: area('region') })
      .where('country', '=', 'GB')
      .where('constituency', 'is', null)
      .where('local_authority', 'is', null)
      .where('ward', 'is', null)
      .where('region', 'is', null)
      .where((eb) => eb.exists(eb.selectFrom('geo_postcodes as g').select('g.postcode').whereRef('g.postcode', '=', 'signatures.postcode')))
      .execute();
    return petitions.map((p) => p.petition_id);
  }
}
