import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf, isoFromStoredSignatureTime, signatureTimeColumn } from '../dialect.ts';

/**
 * The hourly sweep of IP addresses past the fraud-review period reads each petition's signatures
 * along its (petition, time) index from where the last sweep ended (`ips_dropped_before`), instead
 * of an index of its own on every signature still holding an address: one entry a signature on
 * the signing path, and ~16 bytes a signature on disk (160 MB for a petition of ten million signed
 * within the period). See SignaturesRepository.dropIpAddresses.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const kind = dialectOf(db);
  await db.schema.alterTable('petitions').addColumn('ips_dropped_before', columnTypes(kind).timestamp).execute();
  // No signature given before the oldest that still holds an address holds one: every petition
  // starts from there (read along the index about to go), not from its first signature, which
  // for a petition of millions would be a read of all of them at the first sweep.
  const created = signatureTimeColumn(kind, 'created_at');
  const oldest = (await sql<{ t: string | number | null }>`select min(${sql.ref(created)}) as t from signatures where ip is not null`.execute(db)).rows[0]?.t ?? null;
  const mark = oldest === null ? new Date().toISOString() : isoFromStoredSignatureTime(oldest);
  await db.updateTable('petitions').set({ ips_dropped_before: mark }).execute();
  await db.schema.dropIndex('signatures_ip_kept').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const created = signatureTimeColumn(dialectOf(db), 'created_at');
  await sql.raw(`create index "signatures_ip_kept" on "signatures" ("${created}") where "ip" is not null`).execute(db);
  await db.schema.alterTable('petitions').dropColumn('ips_dropped_before').execute();
}
