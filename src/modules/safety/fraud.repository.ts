import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import { scanOnReader, type Db } from '../../db/database.ts';
import { counterShards, ipFromStored, isoFromStoredSignatureTime, signatureEmailDomain, signatureTimeBucket, signatureTimeColumn, signatureTimeIs, statusBeforeInvalidation, storedSignatureStatus } from '../../db/dialect.ts';
import type { Database, FraudReportsTable, InvalidationsTable, SignatureRow } from '../../db/schema.ts';
import type { NewJob } from '../../jobs/jobs.repository.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import { changeCounts } from '../signatures/signatures.repository.ts';

/** Which signatures of a petition an invalidation (or a drill-down) is about; every part given must match. */
export interface SignatureCriteria {
  ipHash?: string | undefined;
  domain?: string | undefined;
  /** Signed at or after (ISO time). */
  from?: string | undefined;
  /** Signed before (ISO time). */
  to?: string | undefined;
  ids?: number[] | undefined;
  /** The signatures one invalidation took (for listing them). */
  invalidationId?: number | undefined;
}

export type Invalidation = Selectable<InvalidationsTable>;

/** A petition's kept fraud-review findings (JSON) and the state of their computation (see migration 0018). */
export type StoredFraudReport = Selectable<FraudReportsTable>;

export interface GroupCount {
  key: string;
  count: number;
  confirmed: number;
  first: string;
  last: string;
}

type SignatureQuery = SelectQueryBuilder<Database, 'signatures', object>;

/**
 * The queries behind fraud review, and bulk invalidation and its reversal. The reads may scan a
 * petition's signatures (a domain or an address's hash has no index of its own: migrations 0012,
 * 0016), so they go through scanOnReader: on a SQLite file they run on the reader thread.
 */
export class FraudRepository {
  private readonly shards: number;

  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {
    this.shards = counterShards(db.kind);
  }

  /** What the fraud report reads (see readFraudReport). */
  report(petitionId: number, limits: FraudReportLimits): Promise<FraudReportData> {
    return scanOnReader(this.db, 'fraud.report', { petitionId, limits }, () => readFraudReport(this.db, petitionId, limits));
  }

  /** One page of the signatures matching some criteria, newest first, with how many match and how many of those still count (see readMatchingPage). */
  list(petitionId: number, criteria: SignatureCriteria, limit: number, offset: number): Promise<{ rows: SignatureRow[]; total: number; valid: { signatures: number; confirmed: number } }> {
    return scanOnReader(this.db, 'fraud.page', { petitionId, criteria, limit, offset }, () => readMatchingPage(this.db, petitionId, criteria, limit, offset));
  }

  /** How many pending or confirmed signatures some criteria match (what an invalidation would take). */
  countValid(petitionId: number, criteria: SignatureCriteria): Promise<{ signatures: number; confirmed: number }> {
    return scanOnReader(this.db, 'fraud.count', { petitionId, criteria }, () => countValidMatches(this.db, petitionId, criteria));
  }

  /**
   * Takes the matching pending and confirmed signatures out of the count, in one transaction:
   * marks them invalidated, subtracts the confirmed ones from the counter and queues their
   * tally changes (so area and hourly counts follow), and records the invalidation and its
   * audit line. The rows stay, so it can be reversed.
   *
   * The matching signatures are found before the transaction, on the reader thread: the search reads the
   * petition's signatures, which on SQLite must not hold the write lock that signing waits for.
   * Signatures given while it reads are not included (a second invalidation takes them); the
   * others are re-checked.
   */
  async invalidate(petitionId: number, criteria: SignatureCriteria, reason: string, actorId: number | null, now: Date, effects: (inv: { id: number; signatures: number; confirmed: number }) => Effects): Promise<Invalidation> {
    const found = await scanOnReader(this.db, 'fraud.ids', { petitionId, criteria }, () => findValidMatches(this.db, petitionId, criteria));
    return this.db.kysely.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('invalidations')
        .values({ petition_id: petitionId, reason, criteria: JSON.stringify(criteria), signature_count: 0, confirmed_count: 0, created_by: actorId, created_at: now.toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      const changed: { id: number; confirmed_at: string | null; country: string; postcode: string | null; area_set_id: number | null }[] = [];
      for (let i = 0; i < found.length; i += 500) {
        changed.push(
          ...(await trx
            .updateTable('signatures')
            .set({ ...storedSignatureStatus(this.db.kind, 'invalidated'), invalidation_id: created.id })
            .where('id', 'in', found.slice(i, i + 500))
            .where('petition_id', '=', petitionId)
            .where('status', 'in', ['pending', 'confirmed'])
            .returning(['id', 'confirmed_at', 'country', 'postcode', 'area_set_id'])
            .execute()),
        );
      }
      // Confirmed signatures are the ones with a confirmation time (pending ones have none).
      const confirmed = changed.filter((r) => r.confirmed_at !== null);
      await changeCounts(trx, this.shards, confirmed.map((r) => ({ ...r, petition_id: petitionId })), -1);
      await trx.updateTable('invalidations').set({ signature_count: changed.length, confirmed_count: confirmed.length }).where('id', '=', created.id).execute();
      await markReportOutdated(trx, petitionId, now);
      await this.effects.write(trx, effects({ id: created.id, signatures: changed.length, confirmed: confirmed.length }), now);
      return trx.selectFrom('invalidations').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    });
  }

  /** Puts an invalidation's signatures back as they were (confirmed ones count again). Null if already reverted. */
  async reinstate(invalidationId: number, actorId: number | null, now: Date, effects: (inv: Invalidation) => Effects): Promise<Invalidation | null> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('invalidations')
        .set({ reverted_at: now.toISOString(), reverted_by: actorId })
        .where('id', '=', invalidationId)
        .where('reverted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!claimed) return null;
      const changed = await trx
        .updateTable('signatures')
        .set({ ...statusBeforeInvalidation(this.db.kind), invalidation_id: null })
        .where('invalidation_id', '=', invalidationId)
        .where('status', '=', 'invalidated')
        .returning(['id', 'confirmed_at', 'country', 'postcode', 'area_set_id'])
        .execute();
      await changeCounts(trx, this.shards, changed.filter((r) => r.confirmed_at !== null).map((r) => ({ ...r, petition_id: claimed.petition_id })), 1);
      await markReportOutdated(trx, claimed.petition_id, now);
      await this.effects.write(trx, effects(claimed), now);
      return claimed;
    });
  }

  async findInvalidation(id: number): Promise<Invalidation | undefined> {
    return this.db.kysely.selectFrom('invalidations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listInvalidations(petitionId: number): Promise<Invalidation[]> {
    return this.db.kysely.selectFrom('invalidations').selectAll().where('petition_id', '=', petitionId).orderBy('id', 'desc').execute();
  }

  /** The petition's kept findings and the state of their computation; undefined when none were ever kept or asked for. */
  async storedReport(petitionId: number): Promise<StoredFraudReport | undefined> {
    return this.db.kysely.selectFrom('fraud_reports').selectAll().where('petition_id', '=', petitionId).executeTakeFirst();
  }

  /**
   * Queues `job` to compute the petition's findings, unless a request is already in hand (made at
   * or after `abandonedBefore`; an older one is taken as lost with its process). The mark and the
   * job commit together, so processes viewing the review at once queue one job between them.
   * Returns whether this call queued it.
   */
  async requestReport(petitionId: number, job: NewJob, now: Date, abandonedBefore: Date): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const marked = await trx
        .insertInto('fraud_reports')
        .values({ petition_id: petitionId, requested_at: now.toISOString() })
        .onConflict((oc) =>
          oc
            .column('petition_id')
            .doUpdateSet({ requested_at: now.toISOString() })
            .where((eb) => eb.or([eb('fraud_reports.requested_at', 'is', null), eb('fraud_reports.requested_at', '<', abandonedBefore.toISOString())])),
        )
        .returning('petition_id')
        .executeTakeFirst();
      if (!marked) return false;
      await this.effects.write(trx, { jobs: [job] }, now);
      return true;
    });
  }

  /**
   * Keeps findings computed from `computedAt`, and ends the request for them, if any. `onlyIfKept`:
   * only where the petition's row is still there (a job's findings; the petition may have been
   * deleted meanwhile), instead of adding it (findings computed live that took long).
   */
  async keepReport(petitionId: number, report: string, computedAt: Date, tookMs: number, options: { onlyIfKept?: boolean } = {}): Promise<void> {
    const values = { report, computed_at: computedAt.toISOString(), took_ms: Math.round(tookMs), requested_at: null };
    if (options.onlyIfKept) {
      await this.db.kysely.updateTable('fraud_reports').set(values).where('petition_id', '=', petitionId).execute();
      return;
    }
    await this.db.kysely
      .insertInto('fraud_reports')
      .values({ petition_id: petitionId, ...values })
      .onConflict((oc) => oc.column('petition_id').doUpdateSet(values))
      .execute();
  }

  /** Kept findings that name IP addresses, for clearing those past the fraud-review period. */
  async reportsNamingAddresses(): Promise<Pick<StoredFraudReport, 'petition_id' | 'report' | 'computed_at'>[]> {
    return this.db.kysely
      .selectFrom('fraud_reports')
      .select(['petition_id', 'report', 'computed_at'])
      .where('report', 'is not', null)
      // The addresses as the findings' JSON writes them ("ip":null when not kept).
      .where('report', 'like', '%"ip":"%')
      .execute();
  }

  /** Replaces kept findings with a corrected copy, unless newer ones were kept meanwhile. */
  async replaceReport(petitionId: number, computedAt: string, report: string): Promise<void> {
    await this.db.kysely.updateTable('fraud_reports').set({ report }).where('petition_id', '=', petitionId).where('computed_at', '=', computedAt).execute();
  }

}

/** Notes on a petition's kept findings (if any) that an invalidation or reinstatement changed the signatures after them. */
async function markReportOutdated(trx: Kysely<Database>, petitionId: number, now: Date): Promise<void> {
  await trx.updateTable('fraud_reports').set({ outdated_at: now.toISOString() }).where('petition_id', '=', petitionId).execute();
}

/** The signatures of a petition that some criteria match. */
function matchingSignatures(db: Pick<Db, 'kysely' | 'kind'>, petitionId: number, criteria: SignatureCriteria): SignatureQuery {
  let q = db.kysely.selectFrom('signatures').where('petition_id', '=', petitionId) as SignatureQuery;
  if (criteria.ipHash) q = q.where('ip_hash', '=', criteria.ipHash);
  if (criteria.domain) q = q.where(signatureEmailDomain(db.kind), '=', criteria.domain);
  if (criteria.from) q = q.where(signatureTimeIs(db.kind, 'created_at', '>=', criteria.from));
  if (criteria.to) q = q.where(signatureTimeIs(db.kind, 'created_at', '<', criteria.to));
  if (criteria.ids) q = q.where('id', 'in', criteria.ids.length > 0 ? criteria.ids : [-1]);
  if (criteria.invalidationId) q = q.where('invalidation_id', '=', criteria.invalidationId);
  return q;
}

/**
 * One page of the matching signatures, newest first; how many match; and how many of those still
 * count (pending or confirmed) and are confirmed: what invalidating them would take. The counts
 * come from one scan (with no index on a domain or an address's hash, each is a scan of the
 * petition's signatures). Run through scanOnReader.
 */
export async function readMatchingPage(db: Pick<Db, 'kysely' | 'kind'>, petitionId: number, criteria: SignatureCriteria, limit: number, offset: number): Promise<{ rows: SignatureRow[]; total: number; valid: { signatures: number; confirmed: number } }> {
  let newestFirst = matchingSignatures(db, petitionId, criteria).selectAll();
  // Along the (petition, time) index, newest first, where the index alone finds what matches: a
  // time window (ordered by id, PostgreSQL walked the primary key back from the newest signature
  // of any petition: 0.66 s for a window at the start of a million), or the whole petition
  // (ordered by id, SQLite looked up and sorted all of a million signatures for the first page's
  // fifty: 2.5 s, against 0.25 s now, most of it the counts below). Otherwise by id: a scan
  // either way, and a rare domain's handful would cost a lookup of every signature through the index.
  const wholePetition = !criteria.ipHash && !criteria.domain && !criteria.ids && !criteria.invalidationId;
  if (criteria.from || criteria.to || wholePetition) newestFirst = newestFirst.orderBy(sql.ref(signatureTimeColumn(db.kind, 'created_at')), 'desc');
  const rows = await newestFirst.orderBy('id', 'desc').limit(limit).offset(offset).execute();
  const counts = await matchingSignatures(db, petitionId, criteria)
    .select((eb) => [
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(sql<number>`case when status in ('pending', 'confirmed') then 1 else 0 end`).as('v'),
      eb.fn.sum<number>(sql<number>`case when status = 'confirmed' then 1 else 0 end`).as('c'),
    ])
    .executeTakeFirstOrThrow();
  return { rows: rows as SignatureRow[], total: Number(counts.n), valid: { signatures: Number(counts.v ?? 0), confirmed: Number(counts.c ?? 0) } };
}

/** How many pending or confirmed signatures match, and how many of them are confirmed. */
export async function countValidMatches(db: Pick<Db, 'kysely' | 'kind'>, petitionId: number, criteria: SignatureCriteria): Promise<{ signatures: number; confirmed: number }> {
  const row = await matchingSignatures(db, petitionId, criteria)
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(sql<number>`case when status = 'confirmed' then 1 else 0 end`).as('c')])
    .where('status', 'in', ['pending', 'confirmed'])
    .executeTakeFirstOrThrow();
  return { signatures: Number(row.n), confirmed: Number(row.c ?? 0) };
}

/** The ids of the pending and confirmed signatures that match (what an invalidation takes). */
export async function findValidMatches(db: Pick<Db, 'kysely' | 'kind'>, petitionId: number, criteria: SignatureCriteria): Promise<number[]> {
  return (await matchingSignatures(db, petitionId, criteria).select('id').where('status', 'in', ['pending', 'confirmed']).execute()).map((r) => r.id);
}

/** How much the fraud report looks at (see FraudService.report). */
export interface FraudReportLimits {
  /** Largest groups by IP address and by email domain. */
  groups: number;
  /** Busiest minutes. */
  minutes: number;
  /** Signatures from one address within ten minutes that make a burst, and how many bursts. */
  burstMinimum: number;
  bursts: number;
  /** Latest signatures the pattern checks read. */
  patternSample: number;
}

/** The fraud report's raw findings: plain data, so that it can come back from the reader thread. */
export interface FraudReportData {
  totals: Record<'pending' | 'confirmed' | 'invalidated', number>;
  minutes: { top: { minute: string; count: number }[]; median: number };
  ips: (GroupCount & { ip: string | null })[];
  domains: GroupCount[];
  bursts: { ipHash: string; ip: string | null; window: string; count: number }[];
  recent: Pick<SignatureRow, 'id' | 'email' | 'email_domain' | 'postcode' | 'country' | 'status'>[];
  unknownPostcodes: number;
}

/**
 * Runs the fraud report's queries one after another on one connection: the web thread's, or
 * (for a SQLite file) the reader thread's, which calls this from src/sqlite-thread.ts. Never in
 * parallel: on PostgreSQL each would take a pooled connection, from the pool the signing path
 * shares, for as long as it scans (about a second each a million signatures), and a review is
 * most likely during a surge of signatures.
 */
export async function readFraudReport(db: Pick<Db, 'kysely' | 'kind'>, petitionId: number, limits: FraudReportLimits): Promise<FraudReportData> {
  return db.kysely.connection().execute(async (connection) => {
    const q = new FraudReportQueries({ kysely: connection, kind: db.kind });
    const totals = await q.totals(petitionId);
    const minutes = await q.busiestMinutes(petitionId, limits.minutes);
    const ips = await q.groups(petitionId, 'ip_hash', limits.groups);
    const domains = (await q.groups(petitionId, 'email_domain', limits.groups)).map(({ ip: _none, ...group }) => group);
    const bursts = await q.ipBursts(petitionId, limits.burstMinimum, limits.bursts);
    const recent = await q.recentForPatterns(petitionId, limits.patternSample);
    const unknownPostcodes = await q.unknownPostcodes(petitionId);
    return { totals, minutes, ips, domains, bursts, recent, unknownPostcodes };
  });
}

/** The fraud report's queries, each over one petition's signatures. */
class FraudReportQueries {
  constructor(private readonly db: Pick<Db, 'kysely' | 'kind'>) {}

  /** Signatures by status: all, confirmed, pending, invalidated. */
  async totals(petitionId: number): Promise<Record<'pending' | 'confirmed' | 'invalidated', number>> {
    const rows = await this.db.kysely
      .selectFrom('signatures')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('petition_id', '=', petitionId)
      .groupBy('status')
      .execute();
    const totals = { pending: 0, confirmed: 0, invalidated: 0 };
    for (const r of rows) totals[r.status] = Number(r.n);
    return totals;
  }

  /** The busiest minutes (by when people signed), and the median of all minutes with any signature. */
  async busiestMinutes(petitionId: number, limit: number): Promise<{ top: { minute: string; count: number }[]; median: number }> {
    const minute = signatureTimeBucket(this.db.kind, 'created_at', 60_000);
    const rows = await this.db.kysely
      .selectFrom('signatures')
      .select([minute.as('minute'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('petition_id', '=', petitionId)
      .groupBy(minute)
      .execute();
    const counts = rows.map((r) => Number(r.n)).sort((a, b) => a - b);
    const median = counts.length ? counts[Math.floor((counts.length - 1) / 2)]! : 0;
    const top = rows
      // "2026-11-16T14:05"
      .map((r) => ({ minute: new Date(Number(r.minute) * 60_000).toISOString().slice(0, 16), count: Number(r.n) }))
      .sort((a, b) => b.count - a.count || a.minute.localeCompare(b.minute))
      .slice(0, limit);
    return { top, median };
  }

  /** Signatures grouped by IP hash or email domain, largest groups first (with the address, while kept, for IP hashes). */
  async groups(petitionId: number, by: 'ip_hash' | 'email_domain', limit: number, minimum = 2): Promise<(GroupCount & { ip: string | null })[]> {
    const key = by === 'ip_hash' ? sql<string | null>`signatures.ip_hash` : signatureEmailDomain(this.db.kind);
    const rows = await this.db.kysely
      .selectFrom('signatures')
      .select((eb) => [
        key.as('key'),
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>(sql<number>`case when status = 'confirmed' then 1 else 0 end`).as('confirmed'),
        // The stored times (SQLite's milliseconds), not the ISO column computed for every row.
        eb.fn.min(sql.ref<string | number>(`signatures.${signatureTimeColumn(this.db.kind, 'created_at')}`)).as('first'),
        eb.fn.max(sql.ref<string | number>(`signatures.${signatureTimeColumn(this.db.kind, 'created_at')}`)).as('last'),
        // The address behind a hash, while any of its signatures keeps it (a domain has none).
        (by === 'ip_hash' ? eb.fn.max('ip') : sql<string | null>`null`).as('ip'),
      ])
      .where('petition_id', '=', petitionId)
      .where(key, 'is not', null)
      .groupBy(key)
      .having((eb) => eb.fn.countAll(), '>=', minimum)
      .orderBy('count', 'desc')
      .orderBy('key')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ key: String(r.key), count: Number(r.count), confirmed: Number(r.confirmed), first: isoFromStoredSignatureTime(r.first as string | number), last: isoFromStoredSignatureTime(r.last as string | number), ip: by === 'ip_hash' ? ipFromStored(r.ip as string | Uint8Array | null) : null }));
  }

  /** One IP hash's signatures in ten-minute windows, where a window holds at least `minimum`. */
  async ipBursts(petitionId: number, minimum: number, limit: number): Promise<{ ipHash: string; ip: string | null; window: string; count: number }[]> {
    const window = signatureTimeBucket(this.db.kind, 'created_at', 600_000);
    const rows = await this.db.kysely
      .selectFrom('signatures')
      .select((eb) => ['ip_hash', window.as('window'), eb.fn.countAll<number>().as('n'), eb.fn.max('ip').as('ip')])
      .where('petition_id', '=', petitionId)
      .where('ip_hash', 'is not', null)
      .groupBy(['ip_hash', window])
      .having((eb) => eb.fn.countAll(), '>=', minimum)
      .orderBy('n', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ipHash: r.ip_hash!, ip: ipFromStored(r.ip as string | Uint8Array | null), window: new Date(Number(r.window) * 600_000).toISOString().slice(0, 16), count: Number(r.n) }));
  }

  /** The most recent signatures' emails, postcodes and countries, for pattern checks done in code. */
  async recentForPatterns(petitionId: number, limit: number): Promise<Pick<SignatureRow, 'id' | 'email' | 'email_domain' | 'postcode' | 'country' | 'status'>[]> {
    return this.db.kysely
      .selectFrom('signatures')
      .select(['id', 'email', 'email_domain', 'postcode', 'country', 'status'])
      .where('petition_id', '=', petitionId)
      // By time, along the (petition, time) index: ordering by id sorted every signature of the
      // petition to keep the last 50,000 (1.3 s for a million on SQLite, against 0.15 s).
      .orderBy(sql.ref(signatureTimeColumn(this.db.kind, 'created_at')), 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** UK signatures whose postcode is not in the imported ONS directory (none when no directory is imported). */
  async unknownPostcodes(petitionId: number): Promise<number> {
    const any = await this.db.kysely.selectFrom('geo_postcodes').select('postcode').limit(1).executeTakeFirst();
    if (!any) return 0;
    const row = await this.db.kysely
      .selectFrom('signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('petition_id', '=', petitionId)
      .where('country', '=', 'GB')
      .where('postcode', 'is not', null)
      .where('postcode', 'like', '% %')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('geo_postcodes as g').select('g.postcode').whereRef('g.postcode', '=', 'signatures.postcode'))))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
