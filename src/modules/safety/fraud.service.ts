import { z } from 'zod';
import { validationError } from '../../lib/errors.ts';
import { emailKey } from '../../lib/email-keys.ts';
import { AppError } from '../../lib/errors.ts';
import { normaliseUkPostcode } from '../../lib/postcode.ts';
import type { Clock } from '../../lib/time.ts';
import { authorize } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import type { FraudRepository, Invalidation, SignatureCriteria, StoredFraudReport } from './fraud.repository.ts';
import type { IpPolicy } from './ip-policy.ts';

/** How a moderator picks signatures: an IP address (or its hash), an email domain, a time window, ids. */
export const CriteriaInput = z
  .object({
    ip: z.string().trim().max(64).optional().refine((v) => !v || /^[0-9a-fA-F:.]+$/.test(v), 'Enter an IP address like 203.0.113.7'),
    ip_hash: z.string().trim().max(64).optional(),
    domain: z.string().trim().toLowerCase().max(253).optional(),
    from: z.string().trim().max(40).optional().refine((v) => !v || !Number.isNaN(Date.parse(v)), 'Enter a date and time like 2026-11-16T14:00'),
    to: z.string().trim().max(40).optional().refine((v) => !v || !Number.isNaN(Date.parse(v)), 'Enter a date and time like 2026-11-16T15:00'),
    ids: z
      .union([z.string().max(100_000), z.array(z.coerce.number().int().positive()).max(10_000)])
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v === '') return undefined;
        const list = Array.isArray(v) ? v : v.split(/[\s,]+/).filter(Boolean).map(Number);
        if (list.some((n) => !Number.isInteger(n) || n <= 0)) {
          ctx.addIssue({ code: 'custom', message: 'Give signature numbers separated by commas' });
          return z.NEVER;
        }
        return list;
      }),
    invalidation: z.coerce.number().int().positive().optional(),
  })
  .transform((v) => Object.fromEntries(Object.entries(v).filter(([, value]) => value !== undefined && value !== '')) as typeof v);

export const InvalidateInput = z.object({
  reason: z.string({ error: 'Say why these signatures are invalid' }).trim().min(3, 'Say why these signatures are invalid').max(500, 'Use at most 500 characters'),
});

export interface FraudReport {
  totals: { pending: number; confirmed: number; invalidated: number };
  minutes: { top: { minute: string; count: number; spike: boolean }[]; median: number };
  ips: { ipHash: string; ip: string | null; count: number; confirmed: number; first: string; last: string }[];
  domains: { domain: string; count: number; confirmed: number; first: string; last: string }[];
  bursts: { ipHash: string; ip: string | null; window: string; count: number }[];
  /** Many addresses that differ only by a number (anna1@, anna2@, …) at one domain. */
  sequences: { stem: string; domain: string; count: number; examples: string[] }[];
  /** Signers who chose a country other than the UK but typed a valid UK postcode. */
  countryMismatches: number;
  /** UK postcodes that are not in the imported ONS directory (0 without one). */
  unknownPostcodes: number;
  invalidations: Invalidation[];
  /** How many of the latest signatures the pattern checks looked at. */
  patternSample: number;
}

/** The findings as kept between views of a big petition's review (the invalidations are read live). */
export type FraudFindings = Omit<FraudReport, 'invalidations'>;

/** Where the findings shown come from, and whether newer ones are on their way. */
export interface FraudReviewState {
  /** Computed for this request (a small petition). */
  live: boolean;
  /** When the computation of the findings shown began: they are as of then (ISO time). */
  computedAt: string | null;
  /** How long it took. */
  tookMs: number | null;
  /** Newer findings were asked for at this time and are being computed by a job (ISO time). */
  updatingSince: string | null;
  /** Signatures were invalidated or reinstated after the findings shown were computed. */
  outdated: boolean;
}

export interface FraudServiceOptions {
  /** Petitions with fewer confirmed signatures are reviewed live (see FraudService.report). */
  liveSignatures: number;
}

/** Findings that took at least this long to compute are kept, and the petition's are computed by a job from then on. */
export const LIVE_REPORT_MS = 1000;
/** Kept findings older than this are computed again when someone looks. */
export const REPORT_REFRESH_MS = 5 * 60_000;
/** A request for findings this old without an answer is taken as lost (its process stopped); at least, and three times the last computation. */
const REPORT_ABANDONED_MS = 10 * 60_000;
/** The job that computes a big petition's findings. */
export const FRAUD_REPORT_JOB = 'fraud.report';

/** A minute is a spike when it has this many times the median minute, and at least SPIKE_MINIMUM. */
const SPIKE_FACTOR = 10;
const SPIKE_MINIMUM = 10;
/** Signatures from one address within ten minutes that are worth a look. */
const BURST_MINIMUM = 10;
const PATTERN_SAMPLE = 50_000;

/**
 * Fraud review for moderators: what looks automated about a petition's signatures, the
 * signatures behind each finding, and reversible bulk invalidation that keeps every count exact.
 */
export class FraudService {
  constructor(
    private readonly fraud: FraudRepository,
    private readonly petitions: PetitionsService,
    private readonly ipPolicy: IpPolicy,
    private readonly clock: Clock,
    private readonly options: FraudServiceOptions,
    private readonly nudge: () => void = () => {},
  ) {}

  private async authorised(user: User | null, slug: string): Promise<Petition> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'review_fraud', view.petition, this.petitions.options);
    return view.petition;
  }

  /**
   * The review's findings. A small petition's are computed for the request (under a second). A
   * big one's (at least `liveSignatures` confirmed, or whose last findings took a second or more)
   * take about 3.7 seconds a million signatures, too long for a page: they are computed by a job
   * and kept, and the page shows the last ones with their time. Opening the review asks for newer
   * findings when the kept ones are five minutes old, or outdated by an invalidation; `refresh`
   * asks at once. The invalidations are always read live.
   */
  async report(user: User | null, slug: string, options: { refresh?: boolean } = {}): Promise<{ petition: Petition; report: FraudReport | null; invalidations: Invalidation[]; state: FraudReviewState }> {
    const petition = await this.authorised(user, slug);
    const [stored, invalidations] = await Promise.all([this.fraud.storedReport(petition.id), this.fraud.listInvalidations(petition.id)]);
    const big = petition.signatureCount >= this.options.liveSignatures || (!!stored?.report && (stored.took_ms ?? 0) >= LIVE_REPORT_MS);
    if (!big) {
      const started = this.clock();
      const { findings, tookMs } = await this.computeFindings(petition.id);
      // Slow now: from the next view on, a job computes them.
      if (tookMs >= LIVE_REPORT_MS) await this.fraud.keepReport(petition.id, JSON.stringify(findings), started, tookMs);
      return { petition, report: { ...findings, invalidations }, invalidations, state: { live: true, computedAt: started.toISOString(), tookMs, updatingSince: null, outdated: false } };
    }
    const state = await this.askForFindingsWhenDue(petition.id, stored, options.refresh ?? false);
    const findings = stored?.report ? (JSON.parse(stored.report) as FraudFindings) : null;
    return { petition, report: findings ? { ...findings, invalidations } : null, invalidations, state };
  }

  /**
   * Where a big petition's findings stand, from the kept row alone (never asks for or computes
   * any): what the review page's script polls to say when newer findings are ready.
   */
  async progress(user: User | null, slug: string): Promise<{ computedAt: string | null; updatingSince: string | null }> {
    const petition = await this.authorised(user, slug);
    const stored = await this.fraud.storedReport(petition.id);
    return { computedAt: stored?.report ? stored.computed_at : null, updatingSince: liveRequest(stored, this.clock()) };
  }

  /** Asks for newer findings now (the "review again" button); nothing to do for a petition reviewed live. */
  async refresh(user: User | null, slug: string): Promise<void> {
    await this.report(user, slug, { refresh: true });
  }

  /** Queues the job for a big petition's findings if the kept ones are missing, old or outdated (or `force`), unless one is on its way. */
  private async askForFindingsWhenDue(petitionId: number, stored: StoredFraudReport | undefined, force: boolean): Promise<FraudReviewState> {
    const now = this.clock();
    const computedAt = stored?.report ? stored.computed_at : null;
    const outdated = !!(computedAt && stored?.outdated_at && stored.outdated_at >= computedAt);
    let updatingSince = liveRequest(stored, now);
    const due = force || !computedAt || outdated || now.getTime() - Date.parse(computedAt) >= REPORT_REFRESH_MS;
    if (due && !updatingSince) {
      const asked = await this.fraud.requestReport(petitionId, { kind: FRAUD_REPORT_JOB, payload: { petitionId }, maxAttempts: 3, urgent: true }, now, new Date(now.getTime() - lostAfter(stored)));
      if (asked) {
        updatingSince = now.toISOString();
        this.nudge();
      } else {
        // Another process asked a moment ago.
        updatingSince = (await this.fraud.storedReport(petitionId))?.requested_at ?? null;
      }
    }
    return { live: false, computedAt, tookMs: computedAt ? stored!.took_ms : null, updatingSince, outdated };
  }

  /** Computes a petition's findings and keeps them (the job a big petition's review queues). */
  async refreshKeptFindings(petitionId: number): Promise<void> {
    const started = this.clock();
    const { findings, tookMs } = await this.computeFindings(petitionId);
    await this.fraud.keepReport(petitionId, JSON.stringify(findings), started, tookMs, { onlyIfKept: true });
  }

  /** The job handler for {@link FRAUD_REPORT_JOB}. */
  jobHandlers(): Record<string, JobHandler> {
    return { [FRAUD_REPORT_JOB]: (payload) => this.refreshKeptFindings(Number(payload.petitionId)) };
  }

  /**
   * Clears from kept findings the IP addresses whose fraud-review period is over (signed before
   * `before`), as the hourly sweep clears them from the signatures: a group or burst keeps its
   * address only while one of its signatures still does.
   */
  async forgetIpAddresses(before: string): Promise<void> {
    const cutoff = Date.parse(before);
    for (const kept of await this.fraud.reportsNamingAddresses()) {
      const findings = JSON.parse(kept.report!) as FraudFindings;
      let changed = false;
      for (const group of findings.ips) {
        if (group.ip && Date.parse(group.last) < cutoff) [group.ip, changed] = [null, true];
      }
      for (const burst of findings.bursts) {
        if (burst.ip && Date.parse(`${burst.window}:00Z`) + 600_000 <= cutoff) [burst.ip, changed] = [null, true];
      }
      if (changed) await this.fraud.replaceReport(kept.petition_id, kept.computed_at!, JSON.stringify(findings));
    }
  }

  /**
   * Forgets a signer whose signature was removed (they withdrew it, or asked for their data to be
   * erased) in the petition's kept findings: their masked address among a sequence's examples,
   * and the address they signed from where a group or burst names it (the keyed hash stays, for
   * the drill-down). The removal marked the findings outdated, so the next look asks for newer
   * ones: a computation under way may have read the signature before it went.
   */
  async forgetSigner(removed: { petitionId: number; email: string; ipHash: string | null }): Promise<void> {
    const kept = await this.fraud.storedReport(removed.petitionId);
    if (!kept?.report) return;
    const findings = JSON.parse(kept.report) as FraudFindings;
    // As the examples were made: from the normalised address.
    const masked = maskEmail(emailKey(removed.email));
    for (const sequence of findings.sequences) sequence.examples = sequence.examples.filter((example) => example !== masked);
    for (const named of [...findings.ips, ...findings.bursts]) {
      if (removed.ipHash && named.ipHash === removed.ipHash) named.ip = null;
    }
    await this.fraud.replaceReport(removed.petitionId, kept.computed_at!, JSON.stringify(findings));
  }

  /** Reads and interprets a petition's findings (everything but the invalidations), timed. */
  private async computeFindings(petitionId: number): Promise<{ findings: FraudFindings; tookMs: number }> {
    const began = performance.now();
    const { totals, minutes, ips, domains, bursts, recent, unknownPostcodes } = await this.fraud.report(petitionId, {
      groups: 20,
      minutes: 10,
      burstMinimum: BURST_MINIMUM,
      bursts: 20,
      patternSample: PATTERN_SAMPLE,
    });
    const spikeAt = Math.max(SPIKE_MINIMUM, minutes.median * SPIKE_FACTOR);
    const valid = recent.filter((r) => r.status !== 'invalidated');
    const findings: FraudFindings = {
      totals,
      minutes: { median: minutes.median, top: minutes.top.map((m) => ({ ...m, spike: m.count >= spikeAt })) },
      ips: ips.map((g) => ({ ipHash: g.key, ip: g.ip, count: g.count, confirmed: g.confirmed, first: g.first, last: g.last })),
      domains: domains.map((g) => ({ domain: g.key, count: g.count, confirmed: g.confirmed, first: g.first, last: g.last })),
      bursts,
      sequences: numberedAddresses(valid),
      countryMismatches: valid.filter((r) => r.country !== 'GB' && r.postcode && normaliseUkPostcode(r.postcode)).length,
      unknownPostcodes,
      patternSample: recent.length,
    };
    return { findings, tookMs: performance.now() - began };
  }

  /**
   * The signatures behind a finding, newest first, and (for a choice of signatures, not an
   * invalidation's list) what invalidating them would take out of the count.
   */
  async list(user: User | null, slug: string, input: unknown, page: number) {
    const petition = await this.authorised(user, slug);
    const criteria = this.criteria(input, { allowEmpty: true });
    const perPage = 100;
    const { rows, total, valid } = await this.fraud.list(petition.id, criteria, perPage, (page - 1) * perPage);
    const preview = criteria.invalidationId || Object.keys(criteria).length === 0 ? null : valid;
    return { petition, criteria, rows, total, perPage, preview };
  }

  async invalidate(user: User | null, slug: string, input: unknown): Promise<Invalidation> {
    const petition = await this.authorised(user, slug);
    return this.invalidateFor(petition, user?.id ?? null, input);
  }

  /** For the command line, which acts with the operator's authority. */
  async invalidateAsOperator(slug: string, input: unknown): Promise<Invalidation> {
    return this.invalidateFor(await this.petitions.getAnyBySlug(slug), null, input);
  }

  private async invalidateFor(petition: Petition, actorId: number | null, input: unknown): Promise<Invalidation> {
    const criteria = this.criteria(input);
    const parsed = InvalidateInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const { reason } = parsed.data;
    if ((await this.fraud.countValid(petition.id, criteria)).signatures === 0) {
      throw new AppError('validation_failed', 'No signatures that still count match these choices.', { field: Object.keys(criteria)[0] === 'domain' ? 'domain' : 'ip' });
    }
    const result = await this.fraud.invalidate(petition.id, criteria, reason, actorId, this.clock(), (inv) => ({
      audit: [{ actorId, petitionId: petition.id, action: 'signatures.invalidated', details: { invalidation: inv.id, reason, criteria: describeCriteria(criteria), signatures: inv.signatures, confirmed: inv.confirmed } }],
    }));
    return result;
  }

  async reinstate(user: User | null, slug: string, invalidationId: number): Promise<Invalidation> {
    const petition = await this.authorised(user, slug);
    const found = await this.fraud.findInvalidation(invalidationId);
    if (!found || found.petition_id !== petition.id) throw new AppError('not_found', 'There is no such invalidation on this petition.');
    return this.reinstateFor(found, user?.id ?? null);
  }

  async reinstateAsOperator(invalidationId: number): Promise<Invalidation> {
    const found = await this.fraud.findInvalidation(invalidationId);
    if (!found) throw new AppError('not_found', `There is no invalidation ${invalidationId}.`);
    return this.reinstateFor(found, null);
  }

  private async reinstateFor(found: Invalidation, actorId: number | null): Promise<Invalidation> {
    const done = await this.fraud.reinstate(found.id, actorId, this.clock(), (inv) => ({
      audit: [{ actorId, petitionId: inv.petition_id, action: 'signatures.reinstated', details: { invalidation: inv.id, signatures: inv.signature_count } }],
    }));
    if (!done) throw new AppError('invalid_state_transition', 'These signatures were already reinstated.');
    return (await this.fraud.findInvalidation(found.id))!;
  }

  /** Parses criteria; at least one is needed to invalidate (never "everything" by accident). */
  criteria(input: unknown, options: { allowEmpty?: boolean } = {}): SignatureCriteria {
    const parsed = CriteriaInput.safeParse(input ?? {});
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const v = parsed.data;
    const criteria: SignatureCriteria = {
      ipHash: v.ip_hash ?? (v.ip ? this.ipPolicy.hash(v.ip) : undefined),
      domain: v.domain,
      from: v.from ? new Date(v.from).toISOString() : undefined,
      to: v.to ? new Date(v.to).toISOString() : undefined,
      ids: v.ids,
      invalidationId: v.invalidation,
    };
    const given = Object.fromEntries(Object.entries(criteria).filter(([, value]) => value !== undefined)) as SignatureCriteria;
    if (!options.allowEmpty && Object.keys(given).length === 0) {
      throw new AppError('validation_failed', 'Choose the signatures: an IP address, an email domain, a time window or signature numbers.', { field: 'ip' });
    }
    return given;
  }
}

/** How long a request for findings may go unanswered before it is taken as lost with its process. */
const lostAfter = (stored: StoredFraudReport | undefined) => Math.max(REPORT_ABANDONED_MS, 3 * (stored?.took_ms ?? 0));

/** When the findings being computed were asked for, unless that request is lost (see lostAfter). */
function liveRequest(stored: StoredFraudReport | undefined, now: Date): string | null {
  return stored?.requested_at && now.getTime() - Date.parse(stored.requested_at) < lostAfter(stored) ? stored.requested_at : null;
}

/** Criteria as people read them in the audit log (hashes stay hashes). */
export function describeCriteria(c: SignatureCriteria): Record<string, unknown> {
  return { ...(c.ipHash ? { ip_hash: c.ipHash } : {}), ...(c.domain ? { domain: c.domain } : {}), ...(c.from ? { from: c.from } : {}), ...(c.to ? { to: c.to } : {}), ...(c.ids ? { ids: c.ids.length } : {}) };
}

/** Groups addresses that differ only by digits ("anna.smith1@", "anna.smith2@"…) at one domain. */
function numberedAddresses(rows: { email: string; email_domain: string | null }[]): FraudReport['sequences'] {
  const groups = new Map<string, { stem: string; domain: string; emails: string[] }>();
  for (const r of rows) {
    // Erased signatures have no address left.
    const email = emailKey(r.email);
    const at = email.lastIndexOf('@');
    if (at < 0) continue;
    const local = email.slice(0, at);
    if (!/\d/.test(local)) continue;
    const stem = local.replace(/[\d._+-]+/g, '');
    const domain = r.email_domain ?? email.slice(at + 1);
    const key = `${stem}@${domain}`;
    const group = groups.get(key) ?? groups.set(key, { stem, domain, emails: [] }).get(key)!;
    group.emails.push(email);
  }
  return [...groups.values()]
    .filter((g) => g.emails.length >= 5)
    .sort((a, b) => b.emails.length - a.emails.length)
    .slice(0, 20)
    .map((g) => ({ stem: g.stem || '(digits only)', domain: g.domain, count: g.emails.length, examples: g.emails.slice(0, 3).map(maskEmail) }));
}

/** "anna.smith12@example.org" → "an…12@example.org": enough to see a pattern, not to read an address. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const digits = /\d+$/.exec(local)?.[0] ?? '';
  return `${local.slice(0, 2)}…${digits}@${email.slice(at + 1)}`;
}
