import type { Db } from '../../db/database.ts';
import { batchConcurrency, counterShards, dialectOf, emailDomain, ipFromStored, isoFromStoredSignatureTime, rowChunks, signatureTimeColumn, signatureTimeIs, storedIp, storedSignatureStatus, storedSignatureTimes, type DialectKind } from '../../db/dialect.ts';
import { sql, type ExpressionBuilder, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, SignatureRow, SignaturesTable } from '../../db/schema.ts';
import { insertJobs, type NewJob } from '../../jobs/jobs.repository.ts';
import { confirmsSignatures, NO_LONGER_SIGNED_STATES } from '../petitions/petition-state.ts';
import { tallyEvent, type TallySource } from '../stats/stats.repository.ts';
import { areaCodesOf, areaSetIds, areaSetKey, type AreaCodes } from '../geo/area-sets.repository.ts';
import { GroupCommit, type CommitStats } from '../../db/group-commit.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';

/** How far back each hourly IP sweep reads again (see SignaturesRepository.dropIpAddresses). */
const IP_SWEEP_OVERLAP_MS = 60_000;

/**
 * Confirmed signers who agreed to hear from the campaign: the condition of the partial index
 * `signatures_contactable` (migration 0011), in one place so the mailing queries keep matching it.
 */
export const mailable = sql<boolean>`signatures.contact_opt_in = 1 and signatures.status = 'confirmed'`;

/**
 * Confirmed signatures, in the literal form that lets both databases use the partial index in
 * confirmation order (`signatures_petition_confirmed`, migration 0012): SQLite cannot match a
 * bound parameter against an index's condition.
 */
export const confirmedOnly = sql<boolean>`signatures.status = 'confirmed'`;

export interface ConsentWording {
  public_name: string | null;
  contact_opt_in: string | null;
}

export interface NewSignature {
  petitionId: number;
  name: string;
  email: string;
  emailKey: string;
  postcode: string | null;
  country: string;
  publicName: boolean;
  contactOptIn: boolean;
  /** The words of each consent ticked, as shown (null for one not ticked); given at the signature's time. */
  consent: ConsentWording;
  ip: string | null;
  ipHash: string | null;
  /** The language the signer used ('en' or 'cy'): their emails are in it. */
  language: string;
}

/** One signature for a signing batch: plain data, so that it can cross to the SQLite writer thread. */
export interface SignatureToRecord {
  signature: NewSignature;
  now: Date;
  resendBefore: string;
  /** The job that sends the confirmation email; its payload is `{ signatureId }`. */
  confirmationJobKind: string;
}

/** One confirmation for a confirming batch: plain data, like SignatureToRecord. */
export interface SignatureToConfirm {
  signatureId: number;
  now: Date;
  /** Whether pending petitions gathering supporters take confirmations (see confirmsSignatures). */
  gathersSupporters: boolean;
  /** A job to queue when this confirmation counts (the webhook event); `petitionId` is set in its payload. */
  announce: NewJob | null;
}

/**
 * Signatures after the one at (`time`, `id`) in the order (stored time `column`, id), for reading
 * on from where a batch or page ended: the range on the time first, so that both planners seek to
 * it along a (petition, time) index.
 */
function afterInTimeOrder(column: string, time: string | number, id: number) {
  return (eb: ExpressionBuilder<Database, 'signatures'>) => eb.and([eb(sql.ref(column), '>=', time), eb.or([eb(sql.ref(column), '>', time), eb('id', '>', id)])]);
}

/** What a data-subject request reads of a signature: its row (the IP address as text), petition and consent wording. */
export type SignerRecord = Omit<SignatureRow, 'ip'> & { ip: string | null; petition_slug: string; petition_title: string; consent: string | null };

/** A signature just deleted: what is left to forget of its signer elsewhere (kept fraud findings). */
export interface RemovedSignature {
  petitionId: number;
  wasConfirmed: boolean;
  email: string;
  ipHash: string | null;
}

export type ConfirmResult = { outcome: ConfirmOutcome; petitionId: number | null };

export type ConfirmOutcome = 'confirmed' | 'already_confirmed' | 'petition_closed' | 'not_found';

/** A signature entering or leaving a count: its petition, when it was confirmed, and its places. */
export type CountedSignature = TallySource & { petition_id: number; confirmed_at: string | null };

/**
 * The one way counts change: moves each petition's confirmed count by `delta` for every signature
 * given, in the caller's transaction — one counter upsert per petition, on a random shard (shards
 * are parts of one sum, so a shard may go below zero) — and queues a tally change per signature so
 * the area and hourly counts follow (see StatsRepository.fold).
 */
export async function changeCounts(trx: Transaction<Database>, shards: number, rows: CountedSignature[], delta: 1 | -1): Promise<void> {
  const perPetition = new Map<number, number>();
  for (const r of rows) perPetition.set(r.petition_id, (perPetition.get(r.petition_id) ?? 0) + delta);
  // In petition order, so concurrent transactions take counter rows in the same order.
  for (const [petitionId, n] of [...perPetition].sort(([a], [b]) => a - b)) {
    await trx
      .insertInto('petition_counters')
      .values({ petition_id: petitionId, shard: Math.floor(Math.random() * shards), confirmed_count: n })
      .onConflict((oc) => oc.columns(['petition_id', 'shard']).doUpdateSet((eb) => ({ confirmed_count: eb('petition_counters.confirmed_count', '+', n) })))
      .execute();
  }
  const areasOf = await areaCodesOf(trx, rows.map((r) => r.area_set_id));
  const events = rows.map((r) => tallyEvent(r.petition_id, r, areasOf(r.area_set_id), delta, r.confirmed_at!));
  for (const chunk of rowChunks(dialectOf(trx), events, 200)) await trx.insertInto('tally_events').values(chunk).execute();
}

/**
 * Stores a batch of pending signatures and their confirmation jobs in one transaction: a handful
 * of statements whatever the batch size. For an address that already signed, queues another
 * confirmation only if the signature is still pending and the last one was queued before
 * `resendBefore`. Runs on the web thread's connection or on the SQLite writer thread's
 * (src/sqlite-thread.ts); `knownWordings` is that connection's cache of consent wording ids.
 */
export async function recordSignatureBatch(db: Kysely<Database>, batch: SignatureToRecord[], knownWordings: Map<string, number>): Promise<{ queued: boolean }[]> {
  let wordings = new Map<string, number>();
  const results = await db.transaction().execute(async (trx) => {
    const postcodes = [...new Set(batch.filter((b) => b.signature.country === 'GB' && b.signature.postcode).map((b) => b.signature.postcode!))];
    const areas = new Map(
      postcodes.length === 0
        ? []
        : (await trx.selectFrom('geo_postcodes').select(['postcode', 'area_set_id']).where('postcode', 'in', postcodes).execute()).map((r) => [r.postcode, r.area_set_id]),
    );
    wordings = await consentWordingIds(trx, batch.map((b) => b.signature.consent), knownWordings);
    const kind = dialectOf(trx);
    const rows = batch.map(({ signature, now }) => {
      const areaSetId = signature.country === 'GB' && signature.postcode ? (areas.get(signature.postcode) ?? null) : null;
      return rowFor(kind, signature, now.toISOString(), areaSetId, wordings.get(wordingKey(signature.consent))!);
    });
    // In key order, so batches committed at once (PostgreSQL) take the unique index's locks in
    // the same order and cannot deadlock.
    rows.sort((a, b) => a.petition_id - b.petition_id || (a.email_key < b.email_key ? -1 : a.email_key > b.email_key ? 1 : 0));
    const inserted = new Map<string, number>();
    for (const chunk of rowChunks(dialectOf(trx), rows, 200)) {
      const ids = await trx
        .insertInto('signatures')
        .values(chunk)
        .onConflict((oc) => oc.columns(['petition_id', 'email_key']).doNothing())
        .returning(['id', 'petition_id', 'email_key'])
        .execute();
      for (const r of ids) inserted.set(`${r.petition_id} ${r.email_key}`, r.id);
    }
    const jobs: NewJob[] = [];
    const results: { queued: boolean }[] = [];
    for (const item of batch) {
      const key = `${item.signature.petitionId} ${item.signature.emailKey}`;
      const id = inserted.get(key);
      if (id !== undefined) {
        // The first of several identical submissions in one batch gets the row; the rest are repeats.
        inserted.delete(key);
        jobs.push({ kind: item.confirmationJobKind, payload: { signatureId: id } });
        results.push({ queued: true });
      } else {
        const resent = await resend(trx, item.signature, item.now, item.resendBefore);
        if (resent !== null) jobs.push({ kind: item.confirmationJobKind, payload: { signatureId: resent } });
        results.push({ queued: resent !== null });
      }
    }
    await insertJobs(trx, jobs, batch[0]!.now);
    return results;
  });
  // Committed: the wordings this batch added exist for every later one.
  if (knownWordings.size > 1000) knownWordings.clear();
  for (const [key, id] of wordings) knownWordings.set(key, id);
  return results;
}

/**
 * The ids of these consent wordings, adding any not yet recorded. Ids are remembered once the
 * transaction that may have added them has committed (see recordSignatureBatch), never before.
 */
async function consentWordingIds(trx: Transaction<Database>, consents: ConsentWording[], knownWordings: Map<string, number>): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const missing = new Set<string>();
  for (const consent of consents) {
    const key = wordingKey(consent);
    const known = knownWordings.get(key);
    if (known === undefined) missing.add(key);
    else ids.set(key, known);
  }
  if (missing.size > 0) {
    const wordings = [...missing];
    await trx.insertInto('consent_wordings').values(wordings.map((wording) => ({ wording }))).onConflict((oc) => oc.column('wording').doNothing()).execute();
    for (const row of await trx.selectFrom('consent_wordings').select(['id', 'wording']).where('wording', 'in', wordings).execute()) ids.set(row.wording, row.id);
  }
  return ids;
}

function rowFor(kind: DialectKind, signature: NewSignature, nowIso: string, areaSetId: number | null, consentWordingId: number) {
  return {
    petition_id: signature.petitionId,
    name: signature.name,
    email: signature.email,
    email_key: signature.emailKey,
    postcode: signature.postcode,
    country: signature.country,
    public_name: signature.publicName ? 1 : 0,
    contact_opt_in: signature.contactOptIn ? 1 : 0,
    consent_wording_id: consentWordingId,
    ip: storedIp(kind, signature.ip),
    ip_hash: signature.ipHash,
    language: signature.language,
    area_set_id: areaSetId,
    ...storedSignatureStatus(kind, 'pending'),
    ...storedSignatureTimes(kind, { created_at: nowIso, confirmation_requested_at: nowIso }),
  };
}

/** For an address that already signed: marks a new confirmation as requested if one is due; returns the signature, or null. */
async function resend(trx: Transaction<Database>, signature: NewSignature, now: Date, resendBefore: string): Promise<number | null> {
  const resent = await trx
    .updateTable('signatures')
    .set(storedSignatureTimes(dialectOf(trx), { confirmation_requested_at: now.toISOString() }))
    .where('petition_id', '=', signature.petitionId)
    .where('email_key', '=', signature.emailKey)
    .where('status', '=', 'pending')
    .where('confirmation_requested_at', '<', resendBefore)
    .returning('id')
    .executeTakeFirst();
  return resent?.id ?? null;
}

/**
 * Confirms a batch of pending signatures and adds them to their petitions' counts, in one
 * transaction: a handful of statements whatever the batch size. A signature counts once however
 * often its link is followed, and only while its petition takes confirmations. Runs on either
 * connection, like recordSignatureBatch.
 */
export async function confirmSignatureBatch(db: Kysely<Database>, shards: number, batch: SignatureToConfirm[]): Promise<ConfirmResult[]> {
  return db.transaction().execute(async (trx) => {
    const ids = [...new Set(batch.map((b) => b.signatureId))];
    const found = new Map(
      (
        await trx
          .selectFrom('signatures')
          .innerJoin('petitions', 'petitions.id', 'signatures.petition_id')
          .select(['signatures.id', 'signatures.status', 'signatures.petition_id', 'petitions.state', 'petitions.deadline'])
          .where('signatures.id', 'in', ids)
          .execute()
      ).map((r) => [r.id, r]),
    );
    const wanted = new Set<number>();
    const results: (ConfirmResult | 'wanted')[] = batch.map((b) => {
      const row = found.get(b.signatureId);
      if (!row) return { outcome: 'not_found', petitionId: null };
      if (row.status === 'confirmed' || wanted.has(b.signatureId)) return { outcome: 'already_confirmed', petitionId: row.petition_id };
      if (!confirmsSignatures(row, b.now, b.gathersSupporters)) return { outcome: 'petition_closed', petitionId: row.petition_id };
      wanted.add(b.signatureId);
      return 'wanted';
    });
    const confirmedAt = batch[0]!.now.toISOString();
    // Only rows still pending change: a concurrent confirmation elsewhere counts once.
    const changed =
      wanted.size === 0
        ? []
        : await trx
            .updateTable('signatures')
            // The time a confirmation was last sent matters only while pending: cleared, 6 bytes a signature.
            .set({ ...storedSignatureStatus(dialectOf(trx), 'confirmed'), ...storedSignatureTimes(dialectOf(trx), { confirmed_at: confirmedAt, confirmation_requested_at: null }) })
            .where('id', 'in', [...wanted])
            .where('status', '=', 'pending')
            .returning(['id', 'petition_id', 'confirmed_at', 'country', 'postcode', 'area_set_id'])
            .execute();
    const done = new Set(changed.map((r) => r.id));
    await changeCounts(trx, shards, changed, 1);
    const jobs: NewJob[] = [];
    const final = results.map((r, i) => {
      if (r !== 'wanted') return r;
      const item = batch[i]!;
      const petitionId = found.get(item.signatureId)!.petition_id;
      if (!done.has(item.signatureId)) return { outcome: 'already_confirmed' as const, petitionId };
      if (item.announce) jobs.push({ ...item.announce, payload: { ...item.announce.payload, petitionId } });
      return { outcome: 'confirmed' as const, petitionId };
    });
    if (jobs.length) await insertJobs(trx, jobs, batch[0]!.now);
    return final;
  });
}

export class SignaturesRepository {
  private readonly shards: number;
  /** Consent wording ids by their JSON, for batches run on this connection. */
  private readonly knownWordings = new Map<string, number>();
  private readonly signing: GroupCommit<SignatureToRecord, { queued: boolean }>;
  private readonly confirming: GroupCommit<SignatureToConfirm, ConfirmResult>;

  constructor(
    private readonly db: Db,
    /** The most signatures (and, apart, confirmations) that may wait for their transaction (MAX_WAITING_SIGNATURES); past it they are refused with GroupCommitFull. */
    maxWaiting = 10_000,
  ) {
    this.shards = counterShards(db.kind);
    const concurrency = batchConcurrency(db.kind);
    const writer = db.writer;
    // On a SQLite file the batches run on the writer thread; elsewhere on this connection.
    this.signing = new GroupCommit(
      writer ? (batch) => writer.run<{ queued: boolean }[]>('signatures.record', batch) : (batch) => recordSignatureBatch(this.db.kysely, batch, this.knownWordings),
      { maxWaiting, concurrency },
    );
    this.confirming = new GroupCommit(
      writer ? (batch) => writer.run<ConfirmResult[]>('signatures.confirm', batch) : (batch) => confirmSignatureBatch(this.db.kysely, this.shards, batch),
      { maxWaiting, concurrency },
    );
  }

  /** The signing and confirming group commits' batches, items and items waiting (for the site's metrics). */
  commitStats(): Record<'signing' | 'confirming', CommitStats> {
    return { signing: this.signing.stats(), confirming: this.confirming.stats() };
  }

  /** Resolves once the signatures and confirmations submitted so far are committed (see GroupCommit.settled). */
  async settled(): Promise<void> {
    await Promise.all([this.signing.settled(), this.confirming.settled()]);
  }

  /**
   * Stores a pending signature and its confirmation job, durably, before answering (see
   * recordSignatureBatch). Returns whether a confirmation job was queued.
   *
   * Signatures arriving together share one transaction (group commit): while one batch commits,
   * the next gathers, so under load one fsync (SQLite) or one commit (PostgreSQL) carries many
   * signatures, and nobody waits for a timer when the site is quiet. Each caller's promise
   * settles only after the commit that holds its signature.
   */
  recordSignature(signature: NewSignature, now: Date, resendBefore: string, confirmationJobKind: string): Promise<{ queued: boolean }> {
    return this.signing.submit({ signature, now, resendBefore, confirmationJobKind });
  }

  /**
   * Confirms a pending signature and adds it to its petition's count, atomically (see
   * confirmSignatureBatch). The count is kept in sharded counter rows (see counterShards) so no
   * single row is a lock hot spot; the per-area and hourly counts follow through a queued tally
   * event. Confirmations arriving together are committed together (see GroupCommit).
   */
  confirm(
    signatureId: number,
    now: Date,
    rule: { gathersSupporters: boolean },
    /** A job to queue with the confirmation (the webhook event), if anyone listens; its payload gets `petitionId`. */
    announce: NewJob | null = null,
  ): Promise<ConfirmResult> {
    return this.confirming.submit({ signatureId, now, gathersSupporters: rule.gathersSupporters, announce });
  }

  /**
   * Deletes a signature at its signer's request; a confirmed one leaves the count in the same
   * transaction, so the count stays exact, and the petition's kept fraud findings (if any) are
   * marked outdated, as an invalidation marks them. Returns its petition and what is left to
   * forget of the signer elsewhere, or null if it was already gone.
   */
  async remove(signatureId: number, now: Date): Promise<RemovedSignature | null> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('signatures')
        .where('id', '=', signatureId)
        .returning(['petition_id', 'status', 'confirmed_at', 'country', 'postcode', 'area_set_id', 'email', 'ip_hash'])
        .executeTakeFirst();
      if (!row) return null;
      if (row.status === 'confirmed') await changeCounts(trx, this.shards, [row], -1);
      await trx.updateTable('fraud_reports').set({ outdated_at: now.toISOString() }).where('petition_id', '=', row.petition_id).execute();
      return { petitionId: row.petition_id, wasConfirmed: row.status === 'confirmed', email: row.email, ipHash: row.ip_hash };
    });
  }

  /**
   * Stores many signatures as they are (demo data, fixtures, benchmarks' preloads): confirmed
   * ones join the petition's count and its area and hourly counts, as if confirmed one by one.
   * Rows may name their ONS areas (`constituency`…) instead of a set of them.
   */
  async insertMany(rows: (Omit<Insertable<SignaturesTable>, 'email_key'> & { email_key?: string } & Partial<AreaCodes>)[]): Promise<void> {
    const codes = (r: Partial<AreaCodes>): AreaCodes => ({ constituency: r.constituency ?? null, local_authority: r.local_authority ?? null, ward: r.ward ?? null, region: r.region ?? null });
    // Committed before any signature refers to them (see areaCodesOf).
    const sets = await this.db.kysely.transaction().execute((trx) => areaSetIds(trx, rows.map(codes)));
    await this.db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 200) {
        const chunk = rows.slice(i, i + 200).map(({ status, created_at, confirmed_at, confirmation_requested_at, constituency, local_authority, ward, region, ...r }) => ({
          ...r,
          ...storedSignatureStatus(this.db.kind, status ?? 'pending'),
          ...storedSignatureTimes(this.db.kind, { created_at, confirmed_at, confirmation_requested_at }),
          email_key: r.email_key ?? signatureEmailKey(r.email),
          email_domain: r.email_domain ?? null,
          area_set_id: r.area_set_id ?? sets.get(areaSetKey(codes({ constituency, local_authority, ward, region })) ?? '') ?? null,
        }));
        const inserted = await trx.insertInto('signatures').values(chunk).returning(['petition_id', 'status', 'confirmed_at', 'country', 'postcode', 'area_set_id']).execute();
        await changeCounts(trx, this.shards, inserted.filter((r) => r.status === 'confirmed'), 1);
      }
    });
  }

  async findById(id: number): Promise<SignatureRow | undefined> {
    return this.db.kysely.selectFrom('signatures').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Erases the personal data of signers of petitions closed before `closedBefore`: names, emails,
   * consents and the inward half of postcodes go; the signature rows stay, confirmed, with their
   * postcode district and country, so counts and per-area figures do not change. Petition by
   * petition, `batch` signatures a transaction, each petition read once along its (petition, time)
   * index from where the last batch ended (starting again from its first signer every batch read
   * past all those already erased: hours for ten million); a petition done is marked so
   * (`signers_erased_at`) and not read again. Returns how many signatures were erased.
   */
  async eraseExpired(closedBefore: string, now: Date, batch = 1000): Promise<number> {
    const due = await this.db.kysely
      .selectFrom('petitions')
      .select(['id', 'closed_at'])
      .where('state', 'in', ['closed', 'delivered'])
      .where('closed_at', '<', closedBefore)
      // Not done since it last closed.
      .where((eb) => eb.or([eb('signers_erased_at', 'is', null), eb('signers_erased_at', '<', eb.ref('closed_at'))]))
      .orderBy('closed_at')
      .execute();
    const created = signatureTimeColumn(this.db.kind, 'created_at');
    let erased = 0;
    for (const petition of due) {
      for (let after: { created: string | number; id: number } | null = null; ; ) {
        let next = this.db.kysely
          .selectFrom('signatures')
          .select(['id', 'postcode', 'country', sql.ref<string | number>(created).as('created')])
          .where('petition_id', '=', petition.id)
          .where('email', '!=', '');
        if (after) next = next.where(afterInTimeOrder(created, after.created, after.id));
        const rows = await next.orderBy(sql.ref(created)).orderBy('id').limit(batch).execute();
        if (rows.length === 0) break;
        await this.db.kysely.transaction().execute(async (trx) => {
          for (const row of rows) {
            await trx
              .updateTable('signatures')
              .set({
                name: '',
                email: '',
                email_key: `erased:${row.id}`,
                // The domain outlives the address, for fraud review (see signatureEmailDomain).
                email_domain: sql<string>`lower(${emailDomain(this.db.kind, 'email')})`,
                postcode: row.country === 'GB' && row.postcode ? row.postcode.split(' ')[0]! : null,
                public_name: 0,
                contact_opt_in: 0,
                consent_wording_id: null,
              })
              .where('id', '=', row.id)
              .execute();
          }
        });
        erased += rows.length;
        const last = rows.at(-1)!;
        after = { created: last.created, id: last.id };
      }
      // The fraud review's kept findings name some of them (masked addresses, IP addresses); a
      // closed petition's review needs none, and a later look computes them from what is left.
      await this.db.kysely.transaction().execute(async (trx) => {
        await trx.deleteFrom('fraud_reports').where('petition_id', '=', petition.id).execute();
        await trx.updateTable('petitions').set({ signers_erased_at: now.toISOString() }).where('id', '=', petition.id).execute();
      });
    }
    return erased;
  }

  /**
   * Folds the counter shards of up to `limit` petitions that no longer gather signatures
   * (closed, rejected or delivered) into one row each (shard 0), keeping each sum: a count is
   * spread over shards only so that confirmations do not queue on one row, and the site's total
   * sums every row (16 a petition on PostgreSQL, for ever, before). One statement a petition:
   * the shards it deletes are locked, so a removal or invalidation changing one meanwhile waits
   * and then writes a new row (its upsert finds the old one gone), and a shard row added after
   * the statement began is not deleted. Returns how many petitions were folded; call until it
   * returns less than `limit`. Nothing to do where counts have one shard (SQLite).
   */
  async foldFinishedCounters(limit: number): Promise<number> {
    if (this.shards === 1) return 0;
    const petitions = await this.db.kysely
      .selectFrom('petition_counters')
      .innerJoin('petitions', 'petitions.id', 'petition_counters.petition_id')
      .select('petition_counters.petition_id')
      .where('petitions.state', 'in', NO_LONGER_SIGNED_STATES)
      .where('petition_counters.shard', '<>', 0)
      .groupBy('petition_counters.petition_id')
      .orderBy('petition_counters.petition_id')
      .limit(limit)
      .execute();
    for (const { petition_id: id } of petitions) {
      await sql`
        with folded as (delete from petition_counters where petition_id = ${id} and shard <> 0 returning confirmed_count)
        insert into petition_counters (petition_id, shard, confirmed_count)
        select ${id}, 0, sum(confirmed_count) from folded having count(*) > 0
        on conflict (petition_id, shard) do update set confirmed_count = petition_counters.confirmed_count + excluded.confirmed_count
      `.execute(this.db.kysely);
    }
    return petitions.length;
  }

  /**
   * Drops the IP addresses of signatures given before `before` (their keyed hash stays, so
   * fraud review can still group them). Petition by petition, along the (petition, time) index
   * from where the last sweep ended (`ips_dropped_before`), so no index of its own is kept on the
   * signatures (migration 0022); a petition closed before that mark has nothing left to drop.
   * Returns how many; call until it returns less than `limit`.
   */
  async dropIpAddresses(before: string, limit: number): Promise<number> {
    const kind = this.db.kind;
    const created = signatureTimeColumn(kind, 'created_at');
    // A minute short of `before`: a signature whose time was read just before it may commit after
    // this sweep read its petition (with IP_RETENTION_DAYS=0); the next sweep reads from here.
    const sweptTo = new Date(Date.parse(before) - IP_SWEEP_OVERLAP_MS).toISOString();
    const petitions = await this.db.kysely
      .selectFrom('petitions')
      .select(['id', 'ips_dropped_before'])
      .where('created_at', '<', before)
      .where((eb) => eb.or([eb('ips_dropped_before', 'is', null), eb('ips_dropped_before', '<', sweptTo)]))
      .where((eb) => eb.or([eb('closed_at', 'is', null), eb('ips_dropped_before', 'is', null), eb('ips_dropped_before', '<=', eb.ref('closed_at'))]))
      .orderBy('id')
      .execute();
    let dropped = 0;
    const done: number[] = [];
    for (const petition of petitions) {
      let q = this.db.kysely
        .selectFrom('signatures')
        .select(['id', sql.ref<string | number>(created).as('created')])
        .where('petition_id', '=', petition.id)
        .where(signatureTimeIs(kind, 'created_at', '<', before))
        .where('ip', 'is not', null);
      if (petition.ips_dropped_before) q = q.where(signatureTimeIs(kind, 'created_at', '>=', petition.ips_dropped_before));
      const room = limit - dropped;
      const due = await q.orderBy(sql.ref(created)).limit(room).execute();
      if (due.length > 0) await this.db.kysely.updateTable('signatures').set({ ip: null }).where('id', 'in', due.map((r) => r.id)).execute();
      dropped += due.length;
      if (due.length === room) {
        // Stopped within this petition: the next call goes on from here (signatures given at the
        // same millisecond as the last are read again; their addresses are gone by then).
        const mark = isoFromStoredSignatureTime(due.at(-1)!.created);
        await this.db.kysely.updateTable('petitions').set({ ips_dropped_before: mark }).where('id', '=', petition.id).execute();
        break;
      }
      done.push(petition.id);
    }
    for (let i = 0; i < done.length; i += 500) {
      await this.db.kysely.updateTable('petitions').set({ ips_dropped_before: sweptTo }).where('id', 'in', done.slice(i, i + 500)).execute();
    }
    return dropped;
  }

  /**
   * One page of a petition's confirmed signatures in the order they were confirmed (for OSDI
   * clients), read along the petition's confirmed index: after the signature `from.after` (the
   * last of the previous page), as quick on the millionth page as on the first; or skipping
   * `from.offset` (a page asked for by number). Null when `after` is not one of the petition's
   * confirmed signatures (removed or invalidated since).
   */
  async pageConfirmed(petitionId: number, limit: number, from: { after: number } | { offset: number }): Promise<SignatureRow[] | null> {
    const kind = this.db.kind;
    const confirmed = signatureTimeColumn(kind, 'confirmed_at');
    let q = this.db.kysely.selectFrom('signatures').selectAll().where('petition_id', '=', petitionId).where(confirmedOnly);
    if ('after' in from) {
      const last = await this.db.kysely
        .selectFrom('signatures')
        .select(sql.ref<string | number>(confirmed).as('t'))
        .where('id', '=', from.after)
        .where('petition_id', '=', petitionId)
        .where(confirmedOnly)
        .executeTakeFirst();
      if (!last) return null;
      q = q.where(afterInTimeOrder(confirmed, last.t, from.after));
    }
    q = q.orderBy(sql.ref(confirmed)).orderBy('id').limit(limit);
    return 'offset' in from ? q.offset(from.offset).execute() : q.execute();
  }

  /**
   * Every signature given with an email address, on any petition: for a data-subject request.
   * Looked up petition by petition along the (petition, email key) unique index: the key alone
   * has no index, and searching by it read every signature on the site.
   */
  async findByEmail(emailKey: string): Promise<SignerRecord[]> {
    const petitionIds = (await this.db.kysely.selectFrom('petitions').select('id').orderBy('id').execute()).map((p) => p.id);
    const found: SignerRecord[] = [];
    for (let i = 0; i < petitionIds.length; i += 500) {
      const rows = await this.db.kysely
        .selectFrom('signatures')
        .innerJoin('petitions', 'petitions.id', 'signatures.petition_id')
        .leftJoin('consent_wordings', 'consent_wordings.id', 'signatures.consent_wording_id')
        .selectAll('signatures')
        .select(['petitions.slug as petition_slug', 'petitions.title as petition_title', 'consent_wordings.wording as consent'])
        .where('signatures.petition_id', 'in', petitionIds.slice(i, i + 500))
        .where('signatures.email_key', '=', emailKey)
        .execute();
      found.push(...rows.map((r) => ({ ...r, ip: ipFromStored(r.ip) })));
    }
    return found.sort((a, b) => a.id - b.id);
  }

  /** Confirmed signers who agreed to hear from the campaign (the audience of an update). */
  async countContactable(petitionId: number): Promise<number> {
    const row = await this.db.kysely
      .selectFrom('signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('petition_id', '=', petitionId)
      .where(mailable)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Confirmed signatures counted row by row: for checks and repairs, never on a page view. */
  async countConfirmedRows(petitionId: number): Promise<number> {
    const row = await this.db.kysely
      .selectFrom('signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('petition_id', '=', petitionId)
      .where(confirmedOnly)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/** One consent wording as stored: the JSON text is its identity. */
function wordingKey(consent: ConsentWording): string {
  return JSON.stringify({ public_name: consent.public_name, contact_opt_in: consent.contact_opt_in });
}
