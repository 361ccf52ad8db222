import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

/** Paper signatures, the hand-in, the decision-maker's response and the outcome. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));

  await db.schema.alterTable('petitions').addColumn('delivered_at', t.timestamp).execute();
  await db.schema.alterTable('petitions').addColumn('outcome', 'text').execute();
  await db.schema.alterTable('petitions').addColumn('outcome_summary', 'text').execute();
  await db.schema.alterTable('petitions').addColumn('outcome_at', t.timestamp).execute();
  await db.schema.createIndex('petitions_outcome').on('petitions').columns(['outcome', 'outcome_at']).execute();

  await db.schema
    .createTable('paper_batches')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('collected_on', 'text', (c) => c.notNull())
    .addColumn('place', 'text')
    .addColumn('collected_by', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_by', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('paper_batches_petition').on('paper_batches').column('petition_id').execute();

  await db.schema
    .createTable('paper_signatures')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('batch_id', t.refType, (c) => c.notNull().references('paper_batches.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('postcode', 'text')
    .addColumn('country', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('paper_signatures_petition').on('paper_signatures').columns(['petition_id', 'country', 'postcode']).execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('petition_id', t.refType, (c) => c.primaryKey().references('petitions.id').onDelete('cascade'))
    .addColumn('delivered_at', t.timestamp, (c) => c.notNull())
    .addColumn('place', 'text', (c) => c.notNull())
    .addColumn('recipient_name', 'text', (c) => c.notNull())
    .addColumn('recipient_body', 'text')
    .addColumn('presented_by', 'text', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('created_by', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('delivery_photos')
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('upload_id', t.refType, (c) => c.notNull().references('uploads.id').onDelete('cascade'))
    .addColumn('caption', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('delivery_photos_pk', ['petition_id', 'upload_id'])
    .execute();

  await db.schema
    .createTable('responses')
    .addColumn('petition_id', t.refType, (c) => c.primaryKey().references('petitions.id').onDelete('cascade'))
    .addColumn('responder', 'text', (c) => c.notNull())
    .addColumn('responded_on', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('document_url', 'text')
    .addColumn('created_by', t.refType, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['responses', 'delivery_photos', 'deliveries', 'paper_signatures', 'paper_batches']) await db.schema.dropTable(table).execute();
  await db.schema.dropIndex('petitions_outcome').execute();
  for (const column of ['delivered_at', 'outcome', 'outcome_summary', 'outcome_at']) await db.schema.alterTable('petitions').dropColumn(column).execute();
}
