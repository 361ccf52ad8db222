import type { Kysely } from 'kysely';

/** The consent each signer gave, in the words they saw. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signatures').addColumn('consent', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signatures').dropColumn('consent').execute();
}
