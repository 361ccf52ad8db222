import type { Kysely } from 'kysely';

/**
 * A job done no longer keeps its row (writeJobOutcomes deletes it): the rows of jobs done before
 * go too. A confirmation email's row and index entry took ~190 bytes on either database, so a
 * petition of ten million signatures left ~1.9 GB of them, as much again as the signatures.
 * There is nothing to put back on the way down.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('jobs').where('state', '=', 'done').execute();
}

export async function down(): Promise<void> {}
