import type { Generated, Insertable, Selectable } from 'kysely';

/*
 * Table types shared by both databases. Conventions that keep one codebase portable:
 * - timestamps are ISO-8601 UTC strings in the application (timestamptz in PostgreSQL, TEXT in SQLite);
 * - yes/no flags are 0/1 integers, because SQLite has no boolean and better-sqlite3 cannot bind one;
 * - ids are integers that are never reused (AUTOINCREMENT / identity), so a signed link to a row
 *   can never start pointing at another row.
 */

export type UserRole = 'admin' | 'campaigner';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  role: UserRole;
  created_at: string;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value: a stolen database does not yield live sessions. */
  id: string;
  user_id: number;
  created_at: string;
  expires_at: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  label: string;
  created_at: string;
  last_used_at: string | null;
}

export type PetitionStateValue = 'draft' | 'open' | 'closed';

export interface PetitionsTable {
  id: Generated<number>;
  slug: string;
  title: string;
  action: string;
  background: string;
  target_name: string;
  target_role: string | null;
  target_organisation: string | null;
  deadline: string | null;
  goal: number | null;
  state: PetitionStateValue;
  owner_id: number;
  created_at: string;
  updated_at: string;
  opened_at: string | null;
  closed_at: string | null;
}

/**
 * Confirmed-signature counters, split over a few rows per petition so that concurrent
 * confirmations on PostgreSQL do not queue on one hot row. The count is the sum of the shards.
 */
export interface PetitionCountersTable {
  petition_id: number;
  shard: number;
  confirmed_count: number;
}

export type SignatureStatus = 'pending' | 'confirmed';

export interface SignaturesTable {
  id: Generated<number>;
  petition_id: number;
  name: string;
  email: string;
  /** Lower-cased, trimmed email: one signature per address per petition. */
  email_key: string;
  postcode: string | null;
  country: string;
  public_name: number;
  contact_opt_in: number;
  status: SignatureStatus;
  created_at: string;
  confirmed_at: string | null;
  /** When a confirmation email was last queued: repeat sign-ups re-send at most once a minute. */
  confirmation_requested_at: string;
}

export type JobState = 'pending' | 'running' | 'done' | 'dead';

/** The durable outbox: rows written in the same transaction as the change that needs them. */
export interface JobsTable {
  id: Generated<number>;
  kind: string;
  payload: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_at: string;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  petitions: PetitionsTable;
  petition_counters: PetitionCountersTable;
  signatures: SignaturesTable;
  jobs: JobsTable;
}

export type UserRow = Selectable<UsersTable>;
export type PetitionRow = Selectable<PetitionsTable>;
export type NewPetitionRow = Insertable<PetitionsTable>;
export type SignatureRow = Selectable<SignaturesTable>;
export type JobRow = Selectable<JobsTable>;
