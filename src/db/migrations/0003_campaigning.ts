import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

/** Updates, endorsements, press links, milestones, uploads and emails to signers. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));

  await db.schema.alterTable('signatures').addColumn('unsubscribed_at', t.timestamp).execute();

  // Images are kept in the database so that every app process serves the same files.
  await db.schema
    .createTable('uploads')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.references('petitions.id').onDelete('cascade'))
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('bytes', t.binary, (c) => c.notNull())
    .addColumn('created_by', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('petition_updates')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('author_id', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('image_upload_id', t.refType, (c) => c.references('uploads.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('petition_updates_petition').on('petition_updates').columns(['petition_id', 'created_at']).execute();
  await db.schema.createIndex('petition_updates_created').on('petition_updates').column('created_at').execute();

  await db.schema
    .createTable('endorsements')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text')
    .addColumn('organisation', 'text')
    .addColumn('quote', 'text')
    .addColumn('url', 'text')
    .addColumn('image_upload_id', t.refType, (c) => c.references('uploads.id').onDelete('set null'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('invited_email', 'text')
    .addColumn('verified_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('endorsements_petition').on('endorsements').columns(['petition_id', 'position']).execute();

  await db.schema
    .createTable('press_links')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('outlet', 'text', (c) => c.notNull())
    .addColumn('headline', 'text', (c) => c.notNull())
    .addColumn('published_on', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('press_links_petition').on('press_links').column('petition_id').execute();

  await db.schema
    .createTable('milestones')
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('threshold', 'integer', (c) => c.notNull())
    .addColumn('reached_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('milestones_pk', ['petition_id', 'kind', 'threshold'])
    .execute();

  await db.schema
    .createTable('broadcasts')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('update_id', t.refType, (c) => c.references('petition_updates.id').onDelete('set null'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_by', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    // Recipients are the opted-in confirmed signers up to this signature id, fixed when the send starts.
    .addColumn('max_signature_id', t.refType, (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('finished_at', t.timestamp)
    .execute();
  await db.schema.createIndex('broadcasts_petition').on('broadcasts').columns(['petition_id', 'created_at']).execute();

  await db.schema
    .createTable('broadcast_deliveries')
    .addColumn('broadcast_id', t.refType, (c) => c.notNull().references('broadcasts.id').onDelete('cascade'))
    .addColumn('signature_id', t.refType, (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('broadcast_deliveries_pk', ['broadcast_id', 'signature_id'])
    .execute();

  // The broadcast's recipient query walks a petition's opted-in confirmed signers by id.
  await db.schema
    .createIndex('signatures_contactable')
    .on('signatures')
    .columns(['petition_id', 'contact_opt_in', 'status', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['broadcast_deliveries', 'broadcasts', 'milestones', 'press_links', 'endorsements', 'petition_updates', 'uploads']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.dropIndex('signatures_contactable').execute();
  await db.schema.alterTable('signatures').dropColumn('unsubscribed_at').execute();
}
