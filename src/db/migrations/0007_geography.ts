import { type Kysely, sql } from 'kysely';
import { columnTypes, dialectOf, postcodeDistrict, utcHour } from '../dialect.ts';

/**
 * Where and when people signed, kept incrementally:
 * - the areas a UK postcode lies in (imported from the ONS Postcode Directory), their names,
 *   populations and boundaries;
 * - each signature's areas, resolved when it was given;
 * - a queue of count changes (`tally_events`, one row per confirmation or removal) that the worker
 *   folds into per-petition, per-area and per-hour counts, so a page view never scans signatures.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const kind = dialectOf(db);
  const t = columnTypes(kind);
  for (const column of ['constituency', 'local_authority', 'ward', 'region']) {
    await db.schema.alterTable('signatures').addColumn(column, 'text').execute();
  }
  await db.schema
    .createTable('geo_postcodes')
    .addColumn('postcode', 'text', (c) => c.primaryKey())
    .addColumn('country', 'text')
    .addColumn('region', 'text')
    .addColumn('constituency', 'text')
    .addColumn('local_authority', 'text')
    .addColumn('ward', 'text')
    .execute();
  await db.schema
    .createTable('geo_areas')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('population', 'integer')
    .execute();
  await db.schema
    .createTable('geo_boundaries')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    // GeoJSON geometry in projected, planar coordinates (see lib/geo.ts).
    .addColumn('geometry', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('geo_boundaries_kind').on('geo_boundaries').column('kind').execute();

  await db.schema
    .createTable('tally_events')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull())
    .addColumn('delta', 'integer', (c) => c.notNull())
    // "2026-11-16T14": the UTC hour the signature was confirmed in.
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('postcode_district', 'text')
    .addColumn('constituency', 'text')
    .addColumn('local_authority', 'text')
    .addColumn('ward', 'text')
    .addColumn('region', 'text')
    .execute();
  await db.schema
    .createTable('petition_area_counts')
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('petition_area_counts_pk', ['petition_id', 'kind', 'code'])
    .execute();
  await db.schema
    .createTable('petition_hourly_counts')
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('petition_hourly_counts_pk', ['petition_id', 'hour'])
    .execute();

  // Signatures confirmed before this migration enter the counts through the same queue.
  await sql`
    insert into tally_events (petition_id, delta, hour, country, postcode_district)
    select petition_id, 1, ${utcHour(kind, 'confirmed_at')}, country,
      case when country = 'GB' and postcode is not null then ${postcodeDistrict(kind, 'postcode')} end
    from signatures where status = 'confirmed'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['petition_hourly_counts', 'petition_area_counts', 'tally_events', 'geo_boundaries', 'geo_areas', 'geo_postcodes']) {
    await db.schema.dropTable(table).execute();
  }
  for (const column of ['constituency', 'local_authority', 'ward', 'region']) {
    await db.schema.alterTable('signatures').dropColumn(column).execute();
  }
}
