import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/*
 * Table types shared by both databases. Conventions that keep one codebase portable:
 * - timestamps are ISO-8601 UTC strings in the application (timestamptz in PostgreSQL, TEXT in SQLite;
 *   a signature's times are integers behind virtual ISO columns on SQLite: see `storedSignatureTimes`);
 * - yes/no flags are 0/1 integers, because SQLite has no boolean and better-sqlite3 cannot bind one;
 * - ids are integers that are never reused (AUTOINCREMENT / identity), so a signed link to a row
 *   can never start pointing at another row.
 */

export type UserRole = 'admin' | 'moderator' | 'campaigner';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  role: UserRole;
  created_at: string;
  /** Set once the address is proven (sign-up link followed, or created by an admin). */
  email_confirmed_at: string | null;
  /** The language of the site when they last signed up or in: their emails are in it. */
  language: Generated<string>;
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

export type PetitionStateValue = 'draft' | 'pending' | 'open' | 'closed' | 'rejected' | 'delivered';

export type Outcome = 'won' | 'partly_won' | 'lost' | 'pending';

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
  /** When the signers' details were erased after the retention period (migration 0021). */
  signers_erased_at: Generated<string | null>;
  /** The signatures given before this time hold no IP address any more (migration 0022). */
  ips_dropped_before: Generated<string | null>;
  submitted_at: string | null;
  rejected_at: string | null;
  /** One of the configured rejection reason codes. */
  rejection_reason: string | null;
  rejection_details: string | null;
  /** Hidden for legal reasons: visible to moderators and the team only. */
  hidden_at: string | null;
  hidden_reason: string | null;
  delivered_at: string | null;
  outcome: Outcome | null;
  outcome_summary: string | null;
  outcome_at: string | null;
  /** The language the petition opens in for visitors who have not chosen one ('en' or 'cy'). */
  language: Generated<string>;
  /** JSON {language, title, action, background}: the petition's text in its other language. */
  translation: string | null;
}

export type MemberRole = 'owner' | 'editor' | 'viewer';

export interface PetitionMembersTable {
  petition_id: number;
  user_id: number;
  role: MemberRole;
  created_at: string;
}

export interface PetitionInvitationsTable {
  id: Generated<number>;
  petition_id: number;
  email: string;
  role: MemberRole;
  invited_by: number | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

/** Who did what, when: every moderation and team action. */
export interface AuditLogTable {
  id: Generated<number>;
  /** Null for the system (e.g. the deadline closer). */
  actor_id: number | null;
  petition_id: number | null;
  action: string;
  /** JSON object with the particulars (reason, fields changed with before and after…). */
  details: string;
  created_at: string;
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

/** 'invalidated': removed from the count by a moderator (reversibly: see invalidations). */
export type SignatureStatus = 'pending' | 'confirmed' | 'invalidated';

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
  /**
   * On SQLite a virtual column computed from `status_code` (migration 0017): written only through
   * `storedSignatureStatus` in dialect.ts.
   */
  status: ColumnType<SignatureStatus, SignatureStatus | undefined, SignatureStatus>;
  /** SQLite only: the status as 0 pending, 1 confirmed, 2 invalidated. */
  status_code: ColumnType<number, number | undefined, number>;
  /*
   * The three times read as ISO strings on both databases. On SQLite they are virtual columns
   * computed from the `_ms` integers below (migration 0012), so they are written only through
   * `storedSignatureTimes` in dialect.ts, which names the right columns for each database.
   */
  created_at: ColumnType<string, string | undefined, string>;
  confirmed_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** When a confirmation email was last queued, while pending: repeat sign-ups re-send at most once a minute. */
  confirmation_requested_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** SQLite only: milliseconds since 1970 behind created_at, confirmed_at, confirmation_requested_at. */
  created_ms: ColumnType<number, number | undefined, number>;
  confirmed_ms: ColumnType<number | null, number | null | undefined, number | null>;
  confirmation_requested_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** When the signer followed an unsubscribe link (contact_opt_in is then 0). */
  unsubscribed_at: string | null;
  /**
   * The signer's IP address: kept for fraud review, then dropped (IP_RETENTION_DAYS). On SQLite an
   * IPv4 address is stored as its four bytes: write it with `storedIp`, read it with `ipFromStored`.
   */
  ip: string | Uint8Array | null;
  /** Keyed hash of the IP address: groups signatures from one address after the address is dropped. */
  ip_hash: string | null;
  /**
   * Lower-cased domain of the email address, written when the address is erased (it is kept for
   * fraud review); until then the address holds it (migration 0015; see signatureEmailDomain).
   */
  email_domain: string | null;
  invalidation_id: number | null;
  /**
   * The ONS areas (constituency, council, ward, region) of a UK postcode, resolved when the
   * signature was given: one of the few thousand distinct combinations in `area_sets` (null if
   * unknown). Migration 0014; 2 bytes a signature instead of four 9-character codes.
   */
  area_set_id: number | null;
  /** The words of each consent the signer ticked, as shown to them (given at created_at); null once erased. */
  consent_wording_id: number | null;
  /** The language the signer signed in: their emails are in it. */
  language: Generated<string>;
}

/** A job done leaves no row (see writeJobOutcomes); one given up stays, `dead`, with its last error. */
export type JobState = 'pending' | 'running' | 'dead';

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

export interface UploadsTable {
  id: Generated<number>;
  petition_id: number | null;
  content_type: string;
  size: number;
  bytes: Buffer;
  created_by: number | null;
  created_at: string;
}

export interface PetitionUpdatesTable {
  id: Generated<number>;
  petition_id: number;
  author_id: number | null;
  title: string;
  /** Markdown, rendered safely on display. */
  body: string;
  image_upload_id: number | null;
  created_at: string;
  updated_at: string;
}

export type EndorsementKind = 'person' | 'organisation';

export interface EndorsementsTable {
  id: Generated<number>;
  petition_id: number;
  kind: EndorsementKind;
  name: string;
  role: string | null;
  organisation: string | null;
  quote: string | null;
  url: string | null;
  image_upload_id: number | null;
  position: number;
  /** Set while the endorser is invited to write their own quote. */
  invited_email: string | null;
  verified_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface PressLinksTable {
  id: Generated<number>;
  petition_id: number;
  outlet: string;
  headline: string;
  published_on: string;
  url: string;
  created_at: string;
}

/** Counts passed, the goal, and the thresholds at which a response or a debate is due. */
export type MilestoneKind = 'count' | 'goal' | 'response' | 'debate';

export interface MilestonesTable {
  petition_id: number;
  kind: MilestoneKind;
  threshold: number;
  reached_at: string;
}

export type BroadcastKind = 'update' | 'thanks' | 'response' | 'outcome';

/** An email to a petition's opted-in signers, sent in batches through the outbox. */
export interface BroadcastsTable {
  id: Generated<number>;
  petition_id: number;
  kind: BroadcastKind;
  update_id: number | null;
  subject: string;
  body: string;
  created_by: number | null;
  created_at: string;
  max_signature_id: number;
  total: number;
  /** Every recipient up to this signature id has been dealt with (migration 0020). */
  progress_id: Generated<number>;
  sent_count: Generated<number>;
  finished_at: string | null;
}

/** One row per recipient of a broadcast: written before sending, so nobody gets it twice. */
/** A recipient of a broadcast being sent, reserved before the email goes (deleted once it has finished). */
export interface BroadcastDeliveriesTable {
  broadcast_id: number;
  signature_id: number;
  /** Rows written since migration 0020 stay 'sending': the count is kept on the broadcast. */
  state: 'sending' | 'sent';
  created_at: string;
}

export interface PaperBatchesTable {
  id: Generated<number>;
  petition_id: number;
  count: number;
  collected_on: string;
  place: string | null;
  collected_by: string | null;
  /** 'count': a tally of a paper sheet; 'import': names read from a CSV file. */
  source: 'count' | 'import';
  created_by: number | null;
  created_at: string;
}

export interface PaperSignaturesTable {
  id: Generated<number>;
  petition_id: number;
  batch_id: number;
  name: string;
  postcode: string | null;
  country: string;
}

export interface DeliveriesTable {
  petition_id: number;
  delivered_at: string;
  place: string;
  recipient_name: string;
  recipient_body: string | null;
  presented_by: string;
  notes: string | null;
  created_by: number | null;
  created_at: string;
}

export interface DeliveryPhotosTable {
  petition_id: number;
  upload_id: number;
  caption: string | null;
  created_at: string;
}

export interface ResponsesTable {
  petition_id: number;
  responder: string;
  responded_on: string;
  text: string;
  document_url: string | null;
  created_by: number | null;
  created_at: string;
}

export interface WebhooksTable {
  id: Generated<number>;
  owner_id: number | null;
  /** Null for a site-wide webhook (admins only). */
  petition_id: number | null;
  url: string;
  /** JSON array of event names. */
  events: string;
  /** Signs every delivery (HMAC-SHA256); shown to the owner once. */
  secret: string;
  include_personal_data: number;
  created_at: string;
  deleted_at: string | null;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: number;
  event: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failing';
  attempts: number;
  response_status: number | null;
  error: string | null;
  created_at: string;
  last_attempt_at: string | null;
}

/** A UK postcode's areas, from the ONS Postcode Directory (`undersign geo import`). */
export interface GeoPostcodesTable {
  postcode: string;
  country: string | null;
  region: string | null;
  constituency: string | null;
  local_authority: string | null;
  ward: string | null;
  /** The same four codes as a set in `area_sets`, which a signature from this postcode records. */
  area_set_id: number | null;
}

/** A distinct combination of ONS area codes; never changed or deleted once used (signatures keep it). */
export interface AreaSetsTable {
  id: Generated<number>;
  /** "constituency|local_authority|ward|region", with empty parts for unknown codes. */
  key: string;
  constituency: string | null;
  local_authority: string | null;
  ward: string | null;
  region: string | null;
}

export type GeoAreaKind = 'constituency' | 'local_authority' | 'ward' | 'region' | 'country';

export interface GeoAreasTable {
  /** ONS (GSS) code, e.g. E14001172. */
  code: string;
  kind: GeoAreaKind;
  name: string | null;
  population: number | null;
}

export interface GeoBoundariesTable {
  code: string;
  kind: GeoAreaKind;
  /** GeoJSON geometry in planar map coordinates. */
  geometry: string;
}

/** One change to a petition's confirmed count (+1 confirmed, −1 removed), waiting to be folded into the area and hourly counts. */
export interface TallyEventsTable {
  id: Generated<number>;
  petition_id: number;
  delta: number;
  hour: string;
  country: string;
  postcode_district: string | null;
  constituency: string | null;
  local_authority: string | null;
  ward: string | null;
  region: string | null;
}

/** Confirmed signatures of a petition per area; kind is 'country', 'postcode_district' or an ONS area kind. */
export interface PetitionAreaCountsTable {
  petition_id: number;
  kind: string;
  code: string;
  count: number;
}

export interface PetitionHourlyCountsTable {
  petition_id: number;
  /** UTC hour, "2026-11-16T14". */
  hour: string;
  count: number;
}

/** A moderator's bulk invalidation of signatures: reversible, and in the audit log. */
export interface InvalidationsTable {
  id: Generated<number>;
  petition_id: number;
  reason: string;
  criteria: string;
  signature_count: number;
  confirmed_count: number;
  created_by: number | null;
  created_at: string;
  reverted_by: number | null;
  reverted_at: string | null;
}

/** A big petition's fraud-review findings, kept between views (see migration 0018). */
export interface FraudReportsTable {
  petition_id: number;
  /** JSON of the findings, without the invalidations (read live). */
  report: string | null;
  /** When the computation began: the findings are as of then. */
  computed_at: string | null;
  took_ms: number | null;
  /** A job to compute them is queued or running. */
  requested_at: string | null;
  /** An invalidation or reinstatement since the findings were computed. */
  outdated_at: string | null;
}

/** Rate-limit counters shared by every app process: one row per key and time window. */
export interface RateLimitHitsTable {
  key: string;
  count: number;
  expires_at: number;
}

/** The words of the consents a signer ticked, one row per distinct wording (see migration 0010). */
export interface ConsentWordingsTable {
  id: Generated<number>;
  /** JSON {public_name, contact_opt_in}: the words shown, null for a consent not ticked. */
  wording: string;
}

export interface Database {
  consent_wordings: ConsentWordingsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  petitions: PetitionsTable;
  petition_counters: PetitionCountersTable;
  signatures: SignaturesTable;
  jobs: JobsTable;
  petition_members: PetitionMembersTable;
  petition_invitations: PetitionInvitationsTable;
  audit_log: AuditLogTable;
  uploads: UploadsTable;
  petition_updates: PetitionUpdatesTable;
  endorsements: EndorsementsTable;
  press_links: PressLinksTable;
  milestones: MilestonesTable;
  broadcasts: BroadcastsTable;
  broadcast_deliveries: BroadcastDeliveriesTable;
  paper_batches: PaperBatchesTable;
  paper_signatures: PaperSignaturesTable;
  deliveries: DeliveriesTable;
  delivery_photos: DeliveryPhotosTable;
  responses: ResponsesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  geo_postcodes: GeoPostcodesTable;
  area_sets: AreaSetsTable;
  geo_areas: GeoAreasTable;
  geo_boundaries: GeoBoundariesTable;
  tally_events: TallyEventsTable;
  petition_area_counts: PetitionAreaCountsTable;
  petition_hourly_counts: PetitionHourlyCountsTable;
  invalidations: InvalidationsTable;
  fraud_reports: FraudReportsTable;
  rate_limit_hits: RateLimitHitsTable;
}

export type UserRow = Selectable<UsersTable>;
export type PetitionRow = Selectable<PetitionsTable>;
export type NewPetitionRow = Insertable<PetitionsTable>;
export type SignatureRow = Selectable<SignaturesTable>;
export type JobRow = Selectable<JobsTable>;
