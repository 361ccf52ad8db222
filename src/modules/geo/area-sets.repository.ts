import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** The ONS areas a UK postcode lies in (any may be unknown). */
export interface AreaCodes {
  constituency: string | null;
  local_authority: string | null;
  ward: string | null;
  region: string | null;
}

export const NO_AREAS: AreaCodes = Object.freeze({ constituency: null, local_authority: null, ward: null, region: null });

/** The identity of a combination of areas in `area_sets`, or null when no area is known. */
export function areaSetKey(codes: AreaCodes): string | null {
  if (codes.constituency === null && codes.local_authority === null && codes.ward === null && codes.region === null) return null;
  return [codes.constituency, codes.local_authority, codes.ward, codes.region].map((c) => c ?? '').join('|');
}

/**
 * The ids of these combinations of areas, adding the ones not yet recorded, in the caller's
 * transaction. Keys are `areaSetKey`s; combinations with no area known get no id.
 */
export async function areaSetIds(trx: Transaction<Database> | Kysely<Database>, sets: AreaCodes[]): Promise<Map<string, number>> {
  const byKey = new Map<string, AreaCodes>();
  for (const codes of sets) {
    const key = areaSetKey(codes);
    if (key !== null) byKey.set(key, codes);
  }
  const ids = new Map<string, number>();
  const keys = [...byKey.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    await trx
      .insertInto('area_sets')
      .values(chunk.map((key) => ({ key, ...pick(byKey.get(key)!) })))
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    for (const row of await trx.selectFrom('area_sets').select(['id', 'key']).where('key', 'in', chunk).execute()) ids.set(row.key, Number(row.id));
  }
  return ids;
}

function pick(codes: AreaCodes): AreaCodes {
  return { constituency: codes.constituency, local_authority: codes.local_authority, ward: codes.ward, region: codes.region };
}

/*
 * Area sets by id, remembered by each thread: a set never changes once a signature refers to one,
 * and only ids read from committed signature rows are asked for (see areaCodesOf), so a set
 * added by a transaction that rolled back is never remembered.
 */
const known = new Map<number, AreaCodes>();

/**
 * The areas of each of these sets (ids taken from signature rows), from this thread's memory or
 * in one query for those not yet seen. A null id has no areas.
 */
export async function areaCodesOf(db: Transaction<Database> | Kysely<Database>, ids: (number | null)[]): Promise<(id: number | null) => AreaCodes> {
  const missing = [...new Set(ids.filter((id): id is number => id !== null && !known.has(id)))];
  if (missing.length > 0) {
    if (known.size > 50_000) known.clear();
    for (let i = 0; i < missing.length; i += 500) {
      const rows = await db.selectFrom('area_sets').select(['id', 'constituency', 'local_authority', 'ward', 'region']).where('id', 'in', missing.slice(i, i + 500)).execute();
      for (const { id, ...codes } of rows) known.set(Number(id), codes);
    }
  }
  return (id) => (id === null ? NO_AREAS : (known.get(id) ?? NO_AREAS));
}
