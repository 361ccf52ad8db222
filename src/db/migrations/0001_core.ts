import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));

  await db.schema
    .createTable('users')
    .addColumn('id', t.idType, t.id)
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'moderator', 'campaigner')`))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', t.refType, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', t.idType, t.id)
    .addColumn('user_id', t.refType, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .execute();

  await db.schema
    .createTable('petitions')
    .addColumn('id', t.idType, t.id)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('background', 'text', (c) => c.notNull())
    .addColumn('target_name', 'text', (c) => c.notNull())
    .addColumn('target_role', 'text')
    .addColumn('target_organisation', 'text')
    .addColumn('deadline', t.timestamp)
    .addColumn('goal', 'integer')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('owner_id', t.refType, (c) => c.notNull().references('users.id'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('opened_at', t.timestamp)
    .addColumn('closed_at', t.timestamp)
    .execute();
  await db.schema.createIndex('petitions_state_opened').on('petitions').columns(['state', 'opened_at']).execute();
  await db.schema.createIndex('petitions_owner').on('petitions').column('owner_id').execute();

  await db.schema
    .createTable('petition_counters')
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('confirmed_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('petition_counters_pk', ['petition_id', 'shard'])
    .execute();

  await db.schema
    .createTable('signatures')
    .addColumn('id', t.idType, t.id)
    .addColumn('petition_id', t.refType, (c) => c.notNull().references('petitions.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull())
    .addColumn('postcode', 'text')
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('public_name', t.flag, (c) => c.notNull().defaultTo(0))
    .addColumn('contact_opt_in', t.flag, (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('confirmed_at', t.timestamp)
    .addColumn('confirmation_requested_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('signatures_one_per_email', ['petition_id', 'email_key'])
    .execute();
  await db.schema
    .createIndex('signatures_petition_confirmed')
    .on('signatures')
    .columns(['petition_id', 'status', 'confirmed_at'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', t.idType, t.id)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_at', t.timestamp, (c) => c.notNull())
    .addColumn('locked_until', t.timestamp)
    .addColumn('last_error', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('finished_at', t.timestamp)
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['jobs', 'signatures', 'petition_counters', 'petitions', 'api_tokens', 'sessions', 'users']) {
    await db.schema.dropTable(table).execute();
  }
}
