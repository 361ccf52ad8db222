import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

const KINDS = ['constituency', 'local_authority', 'ward', 'region'] as const;

/** "constituency|local_authority|ward|region" of a row, as `areaSetKey` in area-sets.repository.ts writes it. */
const keyOf = (table: string) => sql.raw(KINDS.map((k) => `coalesce(${table}.${k}, '')`).join(` || '|' || `));
const anyKnown = (table: string) => sql.raw(`(${KINDS.map((k) => `${table}.${k} is not null`).join(' or ')})`);

/**
 * A signature's four ONS area codes (36 bytes and more a signature) become one reference to the
 * combination they form (`area_sets`: a few thousand rows for the whole UK, one per ward and
 * constituency pairing). Postcodes carry the same reference, so signing looks up one number.
 * No foreign key constraint on the references: SQLite could not drop such a column on the way
 * back, and sets are never deleted.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('area_sets')
    .addColumn('id', t.idType, t.id)
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('constituency', 'text')
    .addColumn('local_authority', 'text')
    .addColumn('ward', 'text')
    .addColumn('region', 'text')
    .execute();
  await db.schema.alterTable('signatures').addColumn('area_set_id', t.refType).execute();
  await db.schema.alterTable('geo_postcodes').addColumn('area_set_id', t.refType).execute();
  for (const table of ['geo_postcodes', 'signatures']) {
    await sql`insert into area_sets (key, constituency, local_authority, ward, region)
      select distinct ${keyOf('s')}, s.constituency, s.local_authority, s.ward, s.region from ${sql.table(table)} s where ${anyKnown('s')}
      on conflict (key) do nothing`.execute(db);
    await sql`update ${sql.table(table)} set area_set_id = (select a.id from area_sets a where a.key = ${keyOf(table)}) where ${anyKnown(table)}`.execute(db);
  }
  for (const column of KINDS) await db.schema.alterTable('signatures').dropColumn(column).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of KINDS) await db.schema.alterTable('signatures').addColumn(column, 'text').execute();
  await sql
    .raw(`update signatures set ${KINDS.map((k) => `${k} = (select a.${k} from area_sets a where a.id = signatures.area_set_id)`).join(', ')} where area_set_id is not null`)
    .execute(db);
  await db.schema.alterTable('signatures').dropColumn('area_set_id').execute();
  await db.schema.alterTable('geo_postcodes').dropColumn('area_set_id').execute();
  await db.schema.dropTable('area_sets').execute();
}
