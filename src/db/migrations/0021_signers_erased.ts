import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

/**
 * When a closed petition's signers' details were erased (after RETENTION_DAYS), so that the
 * hourly sweep looks only at petitions not yet done instead of scanning every long-closed
 * petition's erased signatures again (SignaturesRepository.eraseExpired).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('petitions').addColumn('signers_erased_at', columnTypes(dialectOf(db)).timestamp).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('petitions').dropColumn('signers_erased_at').execute();
}
