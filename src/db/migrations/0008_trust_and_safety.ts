import { type Kysely, sql } from 'kysely';
import { columnTypes, dialectOf, emailDomain } from '../dialect.ts';

/**
 * Trust and safety: where each signature came from (IP address, kept only for the fraud-review
 * period, and a keyed hash of it that outlives it), the email domain, reversible invalidations,
 * and rate-limit counters shared by every app process.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('invalidations')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    // JSON: how the signatures were chosen (ip, domain, time window, ids).
    .addColumn('criteria', 'text', (c) => c.notNull())
    .addColumn('signature_count', 'integer', (c) => c.notNull())
    .addColumn('confirmed_count', 'integer', (c) => c.notNull())
    .addColumn('created_by', t.refType)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('reverted_by', t.refType)
    .addColumn('reverted_at', t.timestamp)
    .execute();
  await db.schema.alterTable('signatures').addColumn('ip', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('ip_hash', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('email_domain', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('invalidation_id', t.refType).execute();
  await sql`update signatures set email_domain = lower(${emailDomain(dialectOf(db), 'email')}) where email like '%@%'`.execute(db);
  await db.schema.createIndex('signatures_petition_ip').on('signatures').columns(['petition_id', 'ip_hash']).execute();
  await db.schema.createIndex('signatures_petition_domain').on('signatures').columns(['petition_id', 'email_domain']).execute();
  await db.schema.createIndex('signatures_petition_created').on('signatures').columns(['petition_id', 'created_at']).execute();
  await db.schema.createIndex('signatures_invalidation').on('signatures').column('invalidation_id').execute();
  // Finds the addresses whose fraud-review period is over without scanning every signature.
  await db.schema.createIndex('signatures_ip_kept').on('signatures').column('created_at').where(sql.ref('ip'), 'is not', null).execute();

  await db.schema
    .createTable('rate_limit_hits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    // Milliseconds since the epoch: compared as numbers on both databases.
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rate_limit_hits_expiry').on('rate_limit_hits').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limit_hits').execute();
  for (const index of ['signatures_ip_kept', 'signatures_petition_ip', 'signatures_petition_domain', 'signatures_petition_created', 'signatures_invalidation']) {
    await db.schema.dropIndex(index).execute();
  }
  for (const column of ['invalidation_id', 'email_domain', 'ip_hash', 'ip']) await db.schema.alterTable('signatures').dropColumn(column).execute();
  await db.schema.dropTable('invalidations').execute();
}
