import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

/** Moderation, teams, the audit log and self-service accounts. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));

  await db.schema.alterTable('users').addColumn('email_confirmed_at', t.timestamp).execute();

  for (const column of ['submitted_at', 'rejected_at', 'hidden_at'] as const) {
    await db.schema.alterTable('petitions').addColumn(column, t.timestamp).execute();
  }
  await db.schema.alterTable('petitions').addColumn('rejection_reason', 'text').execute();
  await db.schema.alterTable('petitions').addColumn('rejection_details', 'text').execute();
  await db.schema.alterTable('petitions').addColumn('hidden_reason', 'text').execute();
  await db.schema.createIndex('petitions_state_submitted').on('petitions').columns(['state', 'submitted_at']).execute();
  await db.schema.createIndex('petitions_state_deadline').on('petitions').columns(['state', 'deadline']).execute();

  await db.schema
    .createTable('petition_members')
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('user_id', t.refType, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('petition_members_pk', ['petition_id', 'user_id'])
    .execute();
  await db.schema.createIndex('petition_members_user').on('petition_members').column('user_id').execute();
  // Everyone who started a petition so far is its owner.
  await db
    .insertInto('petition_members')
    .columns(['petition_id', 'user_id', 'role', 'created_at'])
    .expression((eb) => eb.selectFrom('petitions').select(['id', 'owner_id', eb.val('owner').as('role'), 'created_at']))
    .execute();

  await db.schema
    .createTable('petition_invitations')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('invited_by', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('accepted_at', t.timestamp)
    .addColumn('revoked_at', t.timestamp)
    .execute();
  await db.schema.createIndex('petition_invitations_petition').on('petition_invitations').column('petition_id').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', t.idType, t.id)
    .addColumn('actor_id', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('petition_id', t.refType, (c) => c.references('petitions.id').onDelete('cascade'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_petition').on('audit_log').columns(['petition_id', 'created_at']).execute();
  await db.schema.createIndex('audit_log_created').on('audit_log').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('petition_invitations').execute();
  await db.schema.dropTable('petition_members').execute();
  for (const column of ['submitted_at', 'rejected_at', 'hidden_at', 'rejection_reason', 'rejection_details', 'hidden_reason']) {
    await db.schema.alterTable('petitions').dropColumn(column).execute();
  }
  await db.schema.alterTable('users').dropColumn('email_confirmed_at').execute();
}
