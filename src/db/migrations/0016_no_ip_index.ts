import type { Kysely } from 'kysely';

/**
 * The index of a petition's signatures by IP hash goes (24 bytes a signature on SQLite, 240 MB
 * for ten million). It served only the fraud review's drill-down and invalidation by one address,
 * which now read the petition's signatures as the review's grouping by address already did; an
 * invalidation finds its signatures before taking the write lock (FraudRepository.invalidate).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('signatures_petition_ip').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('signatures_petition_ip').on('signatures').columns(['petition_id', 'ip_hash']).execute();
}
