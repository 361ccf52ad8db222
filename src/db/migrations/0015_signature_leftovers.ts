import { sql, type Kysely } from 'kysely';
import { dialectOf, emailDomain } from '../dialect.ts';

/**
 * Two values a signature no longer stores twice or after they stop mattering:
 * - `email_domain` is written when the address is erased (fraud review keeps the domain); while
 *   the address is kept, the domain is read from it (`signatureEmailDomain` in dialect.ts).
 * - the time a confirmation was last sent is cleared once the signature is confirmed (it only
 *   paces re-sending to pending signers); PostgreSQL's column becomes nullable (SQLite's already
 *   is, since 0012).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  if (postgres) await sql`alter table signatures alter column confirmation_requested_at drop not null`.execute(db);
  await sql`update signatures set email_domain = null where email <> ''`.execute(db);
  await sql.raw(`update signatures set ${postgres ? 'confirmation_requested_at' : 'confirmation_requested_ms'} = null where status = 'confirmed'`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await sql`update signatures set email_domain = lower(${emailDomain(dialectOf(db), 'email')}) where email like '%@%'`.execute(db);
  // A confirmed signature's last request is not known any more: its creation stands in for it.
  await sql.raw(postgres ? `update signatures set confirmation_requested_at = created_at where confirmation_requested_at is null` : `update signatures set confirmation_requested_ms = created_ms where confirmation_requested_ms is null`).execute(db);
  if (postgres) await sql`alter table signatures alter column confirmation_requested_at set not null`.execute(db);
}
