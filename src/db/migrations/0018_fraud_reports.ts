import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

/**
 * The fraud review's findings for a big petition, kept between views: reading them scans every
 * signature of the petition (about 3.7 seconds a million, so half a minute at ten million), too
 * long for a page request. A job computes them (FraudService.refreshStoredReport); pages show the
 * last findings with their time. Small petitions are reviewed live and store nothing.
 *
 * - `report`: JSON of the findings (FraudReport without the invalidations, which are read live);
 *   no addresses beyond masked examples, and IP addresses only while the signatures' are kept
 *   (the hourly IP sweep clears them here too).
 * - `computed_at`: when the computation began (the findings are as of then); `took_ms`: how long.
 * - `requested_at`: a job to compute them is queued or running (none when null).
 * - `outdated_at`: an invalidation or reinstatement since (the findings no longer add up).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('fraud_reports')
    .addColumn('petition_id', t.refType, (c) => c.primaryKey().references('petitions.id').onDelete('cascade'))
    .addColumn('report', 'text')
    .addColumn('computed_at', t.timestamp)
    .addColumn('took_ms', 'integer')
    .addColumn('requested_at', t.timestamp)
    .addColumn('outdated_at', t.timestamp)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('fraud_reports').execute();
}
