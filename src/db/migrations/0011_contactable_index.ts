import { sql, type Kysely } from 'kysely';

/**
 * The index for mailing a petition's signers covers only those who can be mailed (confirmed, and
 * agreed to hear from the campaign): on a big petition most signers are neither, and the full
 * index cost PostgreSQL ~80 bytes a signature. The queries share its condition (`mailable` in
 * signatures.repository.ts); a test checks both planners use it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('signatures_contactable').execute();
  await db.schema
    .createIndex('signatures_contactable')
    .on('signatures')
    .columns(['petition_id', 'id'])
    .where(sql.ref('contact_opt_in'), '=', sql.lit(1))
    .where(sql.ref('status'), '=', sql.lit('confirmed'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('signatures_contactable').execute();
  await db.schema.createIndex('signatures_contactable').on('signatures').columns(['petition_id', 'contact_opt_in', 'status', 'id']).execute();
}
