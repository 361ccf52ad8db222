import type { Kysely } from 'kysely';

/**
 * English and Welsh: the language a petition opens in and its text in the other language (JSON
 * {language, title, action, background}), the language each signer used, so the emails they
 * get are in it, and each campaigner's language (set at sign-up and each sign-in) for theirs.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('petitions').addColumn('language', 'text', (c) => c.notNull().defaultTo('en')).execute();
  await db.schema.alterTable('petitions').addColumn('translation', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('language', 'text', (c) => c.notNull().defaultTo('en')).execute();
  await db.schema.alterTable('users').addColumn('language', 'text', (c) => c.notNull().defaultTo('en')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('language').execute();
  await db.schema.alterTable('signatures').dropColumn('language').execute();
  await db.schema.alterTable('petitions').dropColumn('translation').execute();
  await db.schema.alterTable('petitions').dropColumn('language').execute();
}
