import slugify from '@sindresorhus/slugify';
import { randomBytes } from 'node:crypto';
import { isUniqueViolation } from '../../db/dialect.ts';
import type { Outcome } from '../../db/schema.ts';
import type { Effects } from '../../db/effects.ts';
import { AppError, validationError, type FieldErrors } from '../../lib/errors.ts';
import { endOfDayInZone, type Clock } from '../../lib/time.ts';
import { TokenSigner } from '../../lib/tokens.ts';
import type { User } from '../users/users.service.ts';
import { webhookEvent } from '../webhooks/events.ts';
import { authorize, can, isModerator, type Actor, type PetitionAction } from './petition-policy.ts';
import { assertTransition, effectiveState, type PetitionState } from './petition-state.ts';
import type { PetitionListFilter, PetitionSort, PetitionWithCount, PetitionsRepository } from './petitions.repository.ts';
import { searchable, searchOpenPetitions, type SearchablePetition } from './open-search.ts';
import { isLanguage, type Language } from '../../i18n/i18n.ts';
import { otherLanguage, parseTranslation, type PetitionText } from './petition-text.ts';
import { RecentResults } from '../../lib/recent-results.ts';
import { CreatePetitionInput, HideInput, ListPetitionsQuery, RejectInput, type PetitionOutput } from './petitions.schema.ts';

/** A petition as the rest of the application sees it. */
export interface Petition {
  id: number;
  slug: string;
  title: string;
  action: string;
  background: string;
  /** The language of title, action and background; the petition opens in it for visitors who have not chosen. */
  language: Language;
  /** The same text in the other language, when the team gave it. */
  translation: PetitionText | null;
  target: { name: string; role: string | null; organisation: string | null };
  deadline: string | null;
  goal: number | null;
  /** The state a reader sees (an open petition past its deadline is closed). */
  state: PetitionState;
  ownerId: number;
  signatureCount: number;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  openedAt: string | null;
  closedAt: string | null;
  /** The reason's wording in English and, where the site has it, in Welsh (see rejectionLabel). */
  rejection: { reason: string; labels: { en: string; cy: string | null }; details: string | null; at: string } | null;
  hidden: boolean;
  hiddenReason: string | null;
  /** Signatures collected on paper and recorded by the team. */
  paperSignatureCount: number;
  deliveredAt: string | null;
  outcome: { result: Outcome; summary: string | null; recordedAt: string } | null;
}

/** A petition together with who is looking at it, for pages that show what they may do. */
export interface PetitionView {
  petition: Petition;
  actor: Actor | null;
}

export interface PetitionPage {
  petitions: Petition[];
  page: { number: number; size: number; total: number; total_pages: number };
  filter: PetitionListFilter;
  sort: PetitionSort;
  q: string;
}

/** Job that emails a petition's owners the moderation decision. */
export const MODERATION_NOTICE_JOB = 'petition.moderation_notice';

/** Paths that live beside /petitions/{slug} and so cannot be slugs. */
const RESERVED_SLUGS = new Set(['new', 'search', 'open', 'closed', 'rejected', 'victories', 'feed', 'api']);
const MAX_SLUG_LENGTH = 60;
const TEXT_FIELDS = ['title', 'action', 'background', 'target_name', 'target_role', 'target_organisation', 'deadline', 'goal', 'language', 'translation'] as const;

/** A URL slug for a title: lower-case words joined by hyphens, cut at a word boundary. */
export function slugForTitle(title: string): string {
  let slug = slugify(title, { lowercase: true });
  if (slug.length > MAX_SLUG_LENGTH) slug = slug.slice(0, MAX_SLUG_LENGTH).replace(/-[^-]*$/, '');
  if (!slug) slug = 'petition';
  return RESERVED_SLUGS.has(slug) ? `${slug}-petition` : slug;
}

/** Turns Zod issues into field → message, with dotted paths ("target.name"). */
export function fieldErrorsFrom(issues: { path: PropertyKey[]; message: string }[]): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.map(String).join('.') || 'body';
    fields[key] ??= issue.message;
  }
  return fields;
}

export interface PetitionsServiceOptions {
  secretKey: string;
  timeZone: string;
  baseUrl: string;
  moderation: boolean;
  rejectionReasons: Record<string, string>;
  /** Welsh wording of the reasons, by code (REJECTION_REASONS_CY). */
  rejectionReasonsWelsh?: Record<string, string>;
  supportersRequired: number;
  /**
   * How long a petition read for signing may be reused (PAGE_CACHE_MS; 0 in tests). A viral
   * petition then costs one read per interval instead of one per signature; a petition closed
   * meanwhile still counts no signature confirmed after it closed (confirming checks again).
   */
  signingReadCacheMs?: number;
  /**
   * How long the public listings (the home page's, `/petitions` without a search, the list API)
   * may be reused (PAGE_CACHE_MS; 0 in tests): with tens of thousands of petitions a listing is
   * milliseconds of database work, and the home page, which every visitor of a viral moment may
   * open, was three of them and the site's total (27 home pages a second on SQLite, 11 on
   * PostgreSQL, with signing stalled meanwhile; see docs/performance.md). The site's total is
   * kept {@link SITE_TOTAL_KEPT} times as long: a sum over every petition's counter rows.
   */
  listingCacheMs?: number;
}

/** How many listing intervals the site's signature total is kept (see listingCacheMs). */
const SITE_TOTAL_KEPT = 30;

export class PetitionsService {
  /** Signs the private links through which a submitted petition gathers its first supporters. */
  private readonly supporterLinks: TokenSigner;
  /** Petitions read for signing, confirming and public pages, by `slug:…` and `id:…` (see signingReadCacheMs). */
  private readonly recentReads: RecentResults<Petition | null>;
  /** Public listings without a search, by filter, sort and page (see listingCacheMs). */
  private readonly recentListings: RecentResults<PetitionPage>;
  private readonly recentTotal: RecentResults<number>;
  /** Every open petition's text and count, for searches among them (see listPublic). */
  private readonly openSummaries: RecentResults<SearchablePetition[]>;

  constructor(
    private readonly petitions: PetitionsRepository,
    private readonly clock: Clock,
    readonly options: PetitionsServiceOptions,
    private readonly onJobQueued: () => void = () => {},
  ) {
    this.supporterLinks = new TokenSigner(options.secretKey, 'petition-supporters');
    // One read at a time per petition: when a viral petition's entry expires, the signatures
    // arriving during its read share it instead of each reading it again.
    this.recentReads = new RecentResults(options.signingReadCacheMs ?? 0, () => clock().getTime(), 1000);
    const listingMs = options.listingCacheMs ?? 0;
    this.recentListings = new RecentResults(listingMs, () => clock().getTime());
    this.recentTotal = new RecentResults(listingMs * SITE_TOTAL_KEPT, () => clock().getTime(), 1);
    this.openSummaries = new RecentResults(listingMs, () => clock().getTime(), 1);
  }

  /** Starts a petition in the `draft` state; its creator becomes its owner. */
  async createPetition(user: User, input: unknown): Promise<Petition> {
    const data = this.parseText(input);
    const now = this.clock();
    const nowIso = now.toISOString();
    const base = slugForTitle(data.title);
    // The plain slug when free, otherwise a short random suffix; the unique index settles races.
    for (let attempt = 0; attempt < 5; attempt++) {
      const slug = attempt === 0 ? base : `${base}-${randomBytes(3).toString('hex')}`;
      try {
        const row = await this.petitions.insert(
          { ...data.columns, slug, state: 'draft', owner_id: user.id, created_at: nowIso, updated_at: nowIso },
          (id) => ({ audit: [{ actorId: user.id, petitionId: id, action: 'petition.created', details: { title: data.title } }] }),
          now,
        );
        return this.toPetition({ ...row, signature_count: 0 });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw new AppError('internal_error', 'Could not find a free address for this petition; please try again.');
  }

  /**
   * Changes a petition's text. Its team may while it is a draft or rejected; moderators may at
   * any time (to mend a typo in an open petition), and every change is in the audit log.
   */
  async updatePetition(user: User, slug: string, input: unknown): Promise<Petition> {
    const { petition, actor } = await this.load(slug, user);
    const byTeam = can(actor, 'edit', this.policyView(petition), this.options);
    if (!byTeam) authorize(actor, 'moderate_edit', this.policyView(petition), this.options);
    const data = this.parseText(input, petition.language);
    const before = this.columnsOf(petition);
    const changes = Object.fromEntries(
      TEXT_FIELDS.filter((f) => before[f] !== data.columns[f]).map((f) => [f, { from: before[f], to: data.columns[f] }]),
    );
    if (Object.keys(changes).length === 0) return petition;
    const now = this.clock();
    const states: PetitionState[] = byTeam ? ['draft', 'rejected'] : ['draft', 'pending', 'open', 'closed', 'rejected'];
    const updated = await this.petitions.update(
      petition.id,
      states,
      data.columns,
      { audit: [{ actorId: user.id, petitionId: petition.id, action: byTeam ? 'petition.edited' : 'petition.corrected', details: { changes } }] },
      now,
    );
    if (!updated) throw changedMeanwhile();
    this.forgetRecentReads(petition);
    return this.requireById(petition.id);
  }

  /** Sends a draft (or a rejected petition after an edit) to the moderation queue. */
  async submitPetition(user: User, slug: string): Promise<Petition> {
    const { petition, actor } = await this.load(slug, user);
    authorize(actor, 'submit', this.policyView(petition), this.options);
    assertTransition(petition.state, 'pending');
    this.assertDeadlineAhead(petition);
    return this.transition(petition, 'pending', { submitted_at: this.clock().toISOString() }, {
      audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.submitted' }],
    });
  }

  /** Opens a draft without review: admins always, owners only when moderation is off. */
  async openPetition(user: User, slug: string): Promise<Petition> {
    const { petition, actor } = await this.load(slug, user);
    authorize(actor, 'open', this.policyView(petition), this.options);
    assertTransition(petition.state, 'open');
    this.assertDeadlineAhead(petition);
    return this.transition(petition, 'open', { opened_at: this.clock().toISOString() }, {
      audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.opened' }],
      jobs: [webhookEvent('petition.opened', petition.id)],
    });
  }

  /** A moderator publishes a submitted petition; its owners are emailed. */
  async publishPetition(user: User, slug: string): Promise<Petition> {
    const { petition, actor } = await this.load(slug, user);
    authorize(actor, 'publish', this.policyView(petition), this.options);
    assertTransition(petition.state, 'open');
    this.assertDeadlineAhead(petition);
    return this.transition(petition, 'open', { opened_at: this.clock().toISOString() }, {
      audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.published' }],
      jobs: [{ kind: MODERATION_NOTICE_JOB, payload: { petitionId: petition.id, decision: 'published' } }, webhookEvent('petition.opened', petition.id)],
    });
  }

  /** A moderator rejects a submitted petition with a reason from the configured list; its owners are emailed. */
  async rejectPetition(user: User, slug: string, input: unknown): Promise<Petition> {
    const { petition, actor } = await this.load(slug, user);
    authorize(actor, 'reject', this.policyView(petition), this.options);
    const parsed = RejectInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const { reason, details } = parsed.data;
    if (!this.options.rejectionReasons[reason]) {
      throw new AppError('validation_failed', 'Choose one of the rejection reasons', { field: 'reason' });
    }
    assertTransition(petition.state, 'rejected');
    return this.transition(
      petition,
      'rejected',
      { rejected_at: this.clock().toISOString(), rejection_reason: reason, rejection_details: details },
      {
        audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.rejected', details: { reason, details } }],
        jobs: [{ kind: MODERATION_NOTICE_JOB, payload: { petitionId: petition.id, decision: 'rejected' } }],
      },
    );
  }

  /** Closes an open petition early (its owners or a moderator). */
  async closePetition(user: User, slug: string): Promise<Petition> {
    const { petition, actor } = await this.load(slug, user);
    authorize(actor, 'close', this.policyView(petition), this.options);
    assertTransition(petition.state, 'closed');
    return this.transition(petition, 'closed', { closed_at: this.clock().toISOString() }, {
      audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.closed' }],
      jobs: [webhookEvent('petition.closed', petition.id, { by: 'team' })],
    });
  }

  /** Hides a petition from the public for legal reasons (or shows it again); moderators only. */
  async setHidden(user: User, slug: string, hidden: boolean, input: unknown = {}): Promise<Petition> {
    const { petition, actor } = await this.load(slug, user);
    authorize(actor, 'hide', this.policyView(petition), this.options);
    const parsed = HideInput.safeParse(input);
    if (hidden && !parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const reason = hidden && parsed.success ? parsed.data.reason : null;
    const now = this.clock();
    const updated = await this.petitions.update(
      petition.id,
      ['draft', 'pending', 'open', 'closed', 'rejected'],
      { hidden_at: hidden ? now.toISOString() : null, hidden_reason: reason },
      { audit: [{ actorId: user.id, petitionId: petition.id, action: hidden ? 'petition.hidden' : 'petition.unhidden', details: reason ? { reason } : {} }] },
      now,
    );
    if (!updated) throw changedMeanwhile();
    this.forgetRecentReads(petition);
    return this.requireById(petition.id);
  }

  /** Closes every petition whose deadline has passed; run periodically by the worker. */
  async closeExpiredPetitions(): Promise<number> {
    const closed = await this.petitions.closeExpired(this.clock(), (p) => ({
      audit: [{ actorId: null, petitionId: p.id, action: 'petition.closed', details: { by: 'deadline' } }],
      jobs: [webhookEvent('petition.closed', p.id, { by: 'deadline' })],
    }));
    return closed.length;
  }

  /**
   * A petition as `viewer` may see it: public petitions for everyone; drafts, pending and hidden
   * ones only for their team and moderators. Anything else is "not found", so nothing leaks.
   */
  async getForViewer(slug: string, viewer: User | null): Promise<Petition> {
    return (await this.viewFor(slug, viewer)).petition;
  }

  /** Like {@link getForViewer}, with the viewer's standing, so pages can offer what they may do. */
  async viewFor(slug: string, viewer: User | null): Promise<PetitionView> {
    const view = await this.load(slug, viewer);
    authorize(view.actor, 'view', this.policyView(view.petition), this.options);
    return view;
  }

  /** The petition, if `user` may take `action` on it; otherwise the policy's not-found, 401 or 403. */
  async requireAction(user: User | null, slug: string, action: PetitionAction): Promise<Petition> {
    const view = await this.load(slug, user);
    authorize(view.actor, action, this.policyView(view.petition), this.options);
    return view.petition;
  }

  /** Whether the viewer may take an action, for showing or hiding buttons. */
  can(view: PetitionView, action: PetitionAction): boolean {
    return can(view.actor, action, this.policyView(view.petition), this.options);
  }

  async getById(id: number): Promise<Petition | null> {
    const row = await this.petitions.findById(id);
    return row ? this.toPetition(row) : null;
  }

  /** True while the petition takes signatures: open and before its deadline. */
  acceptsSignatures(petition: Pick<Petition, 'state' | 'deadline'>): boolean {
    return effectiveState(petition, this.clock()) === 'open';
  }

  /**
   * True while a submitted petition gathers supporters through its private link before it
   * reaches the moderation queue (only when SUPPORTERS_REQUIRED is set).
   */
  collectsSupporters(petition: Pick<Petition, 'state'>): boolean {
    return this.gathersSupporters && petition.state === 'pending';
  }

  /** Whether pending petitions gather supporters before moderation (SUPPORTERS_REQUIRED is set). */
  get gathersSupporters(): boolean {
    return this.options.supportersRequired > 0;
  }

  /** The private address the team shares to gather supporters. */
  supporterUrl(petition: Pick<Petition, 'id' | 'slug'>): string {
    return `${this.urlFor(petition)}/support/${this.supporterLinks.sign(petition.id)}`;
  }

  /**
   * The petition someone is signing: an open one, or a submitted one gathering supporters when
   * the signer came through its private link. Anything else is closed, not open yet, or unknown.
   */
  async petitionForSigning(slug: string, supportToken?: string | null): Promise<Petition> {
    if (supportToken) {
      const row = await this.petitions.findBySlug(slug);
      const petition = row ? this.toPetition(row) : null;
      if (petition && !petition.hidden && this.supporterLinks.verify(supportToken) === petition.id && this.collectsSupporters(petition)) {
        return petition;
      }
      if (!petition || petition.state !== 'open') throw petitionNotFound();
    }
    const petition = await this.recentPublic(slug);
    if (!this.acceptsSignatures(petition) || petition.hidden) {
      throw petition.state === 'draft' || petition.state === 'pending' || petition.state === 'rejected'
        ? new AppError('petition_not_open', 'This petition is not open for signatures.')
        : new AppError('petition_closed', 'This petition is closed and no longer accepts signatures.');
    }
    return petition;
  }

  /**
   * The petition as the public sees it (not found when hidden or not yet public), reused for
   * `signingReadCacheMs` (see the option): for the signing path, and for what every visitor or
   * reader loads alike (a news article's embedded widget, the share card, the map, the live
   * count's first figure), which read the petition and its count for each before (an embed
   * 2,044 a second on SQLite, 1,074 on PostgreSQL, against a cached petition page's 6,000–9,000).
   */
  recentPublic(slug: string): Promise<Petition> {
    return this.readRecently(`slug:${slug}`, () => this.getForViewer(slug, null));
  }

  /**
   * A petition as the page after a confirmation shows it (its count may be `signingReadCacheMs`
   * old, like the public page's); null when there is no such petition.
   */
  recentById(id: number): Promise<Petition | null> {
    return this.readRecently(`id:${id}`, () => this.getById(id));
  }

  /**
   * Several petitions by id, as recentById reads each, those not read a moment ago in one query:
   * a page of search results, whose petitions (the most signed first) are much the same from one
   * search to the next.
   */
  private recentManyById(ids: number[]): Promise<(Petition | null)[]> {
    return this.recentReads.getMany(
      ids.map((id) => `id:${id}`),
      async (keys) => {
        const wanted = keys.map((key) => Number(key.slice('id:'.length)));
        const byId = new Map((await this.petitions.findManyById(wanted)).map((row) => [row.id, this.toPetition(row)]));
        return wanted.map((id) => byId.get(id) ?? null);
      },
    );
  }

  private readRecently<T extends Petition | null>(key: string, read: () => Promise<T>): Promise<T> {
    return this.recentReads.get(key, read) as Promise<T>;
  }

  private forgetRecentReads(petition: Pick<Petition, 'id' | 'slug'>): void {
    this.recentReads.forget(`slug:${petition.slug}`);
    this.recentReads.forget(`id:${petition.id}`);
    // A petition opened, closed, edited or hidden shows in (or leaves) the lists at once.
    this.recentListings.clear();
    this.openSummaries.clear();
    this.recentTotal.clear();
  }

  /**
   * The public listing: open, closed or rejected petitions, searched, sorted and paged. The same
   * for every visitor: without a search it is reused for a moment (see listingCacheMs). A search
   * result is not kept (its words are anyone's, so keeping them would keep anything): among open
   * petitions it is matched against their text kept for the same moment.
   */
  async listPublic(input: unknown): Promise<PetitionPage> {
    const parsed = ListPetitionsQuery.safeParse(input ?? {});
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const { state: filter, q, page, per_page: size } = parsed.data;
    const sort = parsed.data.sort ?? (filter === 'open' ? 'popular' : 'newest');
    const words = q
      .replace(/[%_\\]/g, ' ')
      .split(/\s+/)
      .filter((w) => w.length > 0)
      .slice(0, 8);
    const read = async (): Promise<PetitionPage> => {
      const { rows, total } = await this.petitions.list({ filter, sort, words, limit: size, offset: (page - 1) * size }, this.clock().toISOString());
      return {
        petitions: rows.map((r) => this.toPetition(r)),
        page: { number: page, size, total, total_pages: Math.max(1, Math.ceil(total / size)) },
        filter,
        sort,
        q,
      };
    };
    if (words.length === 0) return this.recentListings.get(`${filter}:${sort}:${page}:${size}`, read);
    if (filter !== 'open') return read();
    // A search among open petitions (the search form's): matched in memory against every open
    // petition's text, read once a moment for all searches, then the page's petitions read. In
    // the database each search read all of them (133–477 searches a second with 2,000 open
    // petitions, ~3 ms of SQLite's event loop each).
    const open = await this.openSummaries.get('open', async () => searchable(await this.petitions.openSummaries(this.clock().toISOString())));
    const found = searchOpenPetitions(open, words.map((w) => w.toLowerCase()), sort);
    const petitions = await this.recentManyById(found.slice((page - 1) * size, page * size));
    return {
      petitions: petitions.filter((p) => p !== null),
      page: { number: page, size, total: found.length, total_pages: Math.max(1, Math.ceil(found.length / size)) },
      filter,
      sort,
      q,
    };
  }

  /** Submitted petitions waiting for review, oldest first; moderators only. */
  async moderationQueue(user: User, limit = 100): Promise<Petition[]> {
    if (!isModerator(user.role)) throw new AppError('forbidden', 'Only moderators can see the moderation queue.');
    const rows = await this.petitions.listModerationQueue(this.options.supportersRequired, limit);
    return rows.map((r) => this.toPetition(r));
  }

  /** Petitions whose team the user is on, with their role. */
  async listForMember(user: User): Promise<(Petition & { memberRole: string })[]> {
    const rows = await this.petitions.listForMember(user.id);
    return rows.map((r) => ({ ...this.toPetition(r), memberRole: r.member_role }));
  }

  /** Confirmed signatures on every public petition, for the home page; reused for a while (see listingCacheMs). */
  async siteSignatureTotal(): Promise<number> {
    return this.recentTotal.get('total', () => this.petitions.siteSignatureTotal());
  }

  /** The petition's public address. */
  urlFor(petition: Pick<Petition, 'slug'>): string {
    return `${this.options.baseUrl}/petitions/${encodeURIComponent(petition.slug)}`;
  }

  /** The JSON the API returns for a petition. */
  toOutput(petition: Petition): PetitionOutput {
    return {
      slug: petition.slug,
      title: petition.title,
      action: petition.action,
      background: petition.background,
      language: petition.language,
      translation: petition.translation,
      target: petition.target,
      state: petition.state,
      signature_count: petition.signatureCount,
      paper_signature_count: petition.paperSignatureCount,
      total_signature_count: petition.signatureCount + petition.paperSignatureCount,
      goal: petition.goal,
      deadline: petition.deadline,
      url: this.urlFor(petition),
      created_at: petition.createdAt,
      submitted_at: petition.submittedAt,
      opened_at: petition.openedAt,
      closed_at: petition.closedAt ?? (petition.state === 'closed' ? petition.deadline : null),
      rejection: petition.rejection ? { reason: petition.rejection.reason, label: petition.rejection.labels.en, details: petition.rejection.details } : null,
      hidden: petition.hidden,
      delivered_at: petition.deliveredAt,
      outcome: petition.outcome ? { result: petition.outcome.result, summary: petition.outcome.summary, recorded_at: petition.outcome.recordedAt } : null,
    };
  }

  /** Any petition by its address, whatever its state: for the operator's command line only. */
  async getAnyBySlug(slug: string): Promise<Petition> {
    return (await this.load(slug, null)).petition;
  }

  /** Loads a petition and who is acting on it (their team role, if any). */
  private async load(slug: string, user: User | null): Promise<PetitionView> {
    const row = await this.petitions.findBySlug(slug);
    if (!row) throw petitionNotFound();
    const petition = this.toPetition(row);
    const actor: Actor | null = user
      ? { userId: user.id, siteRole: user.role, memberRole: await this.petitions.memberRole(petition.id, user.id) }
      : null;
    return { petition, actor };
  }

  private async transition(
    petition: Petition,
    to: PetitionState,
    changes: Parameters<PetitionsRepository['changeState']>[3],
    effects: Effects,
  ): Promise<Petition> {
    const changed = await this.petitions.changeState(petition.id, petition.state, to, changes, effects, this.clock());
    if (!changed) throw changedMeanwhile();
    // A change made here reaches signing at once; other processes see it within signingReadCacheMs.
    this.forgetRecentReads(petition);
    if (effects.jobs?.length) this.onJobQueued();
    return this.requireById(petition.id);
  }

  private policyView(petition: Petition) {
    return { state: petition.state, hidden: petition.hidden };
  }

  private parseText(input: unknown, currentLanguage: Language = 'en') {
    const parsed = CreatePetitionInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const data = parsed.data;
    const deadline = data.deadline ? this.deadlineInstant(data.deadline) : null;
    if (deadline && deadline <= this.clock().toISOString()) {
      throw new AppError('validation_failed', 'The deadline must be in the future', { field: 'deadline' });
    }
    const language = data.language ?? currentLanguage;
    return {
      title: data.title,
      columns: {
        title: data.title,
        action: data.action,
        background: data.background,
        language,
        translation: data.translation ? JSON.stringify({ language: otherLanguage(language), ...data.translation }) : null,
        target_name: data.target.name,
        target_role: data.target.role,
        target_organisation: data.target.organisation,
        deadline,
        goal: data.goal ?? null,
      },
    };
  }

  private columnsOf(petition: Petition) {
    return {
      title: petition.title,
      action: petition.action,
      background: petition.background,
      language: petition.language,
      translation: petition.translation ? JSON.stringify(petition.translation) : null,
      target_name: petition.target.name,
      target_role: petition.target.role,
      target_organisation: petition.target.organisation,
      deadline: petition.deadline,
      goal: petition.goal,
    };
  }

  private assertDeadlineAhead(petition: Petition): void {
    if (petition.deadline && petition.deadline <= this.clock().toISOString()) {
      throw new AppError('validation_failed', 'The deadline has passed; set a new one first', { field: 'deadline' });
    }
  }

  private async requireById(id: number): Promise<Petition> {
    const petition = await this.getById(id);
    if (!petition) throw petitionNotFound();
    return petition;
  }

  private deadlineInstant(deadline: string): string {
    return /^\d{4}-\d{2}-\d{2}$/.test(deadline)
      ? endOfDayInZone(deadline, this.options.timeZone)
      : new Date(deadline).toISOString();
  }

  /** A rejection reason's wording in each language the site has it in. */
  private rejectionLabels(code: string): { en: string; cy: string | null } {
    return { en: this.options.rejectionReasons[code] ?? code, cy: this.options.rejectionReasonsWelsh?.[code] ?? null };
  }

  private toPetition(row: PetitionWithCount): Petition {
    return {
      id: row.id,
      slug: row.slug,
      title: row.title,
      action: row.action,
      background: row.background,
      language: isLanguage(row.language) ? row.language : 'en',
      translation: parseTranslation(row.translation),
      target: { name: row.target_name, role: row.target_role, organisation: row.target_organisation },
      deadline: row.deadline,
      goal: row.goal,
      state: effectiveState(row, this.clock()),
      ownerId: row.owner_id,
      signatureCount: Number(row.signature_count ?? 0),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      submittedAt: row.submitted_at,
      openedAt: row.opened_at,
      closedAt: row.closed_at,
      rejection:
        row.state === 'rejected' && row.rejection_reason
          ? {
              reason: row.rejection_reason,
              labels: this.rejectionLabels(row.rejection_reason),
              details: row.rejection_details,
              at: row.rejected_at ?? row.updated_at,
            }
          : null,
      hidden: row.hidden_at !== null,
      hiddenReason: row.hidden_reason,
      paperSignatureCount: Number(row.paper_count ?? 0),
      deliveredAt: row.delivered_at,
      outcome: row.outcome ? { result: row.outcome, summary: row.outcome_summary, recordedAt: row.outcome_at ?? row.updated_at } : null,
    };
  }
}

export function petitionNotFound(): AppError {
  return new AppError('petition_not_found', 'There is no petition at this address.');
}

function changedMeanwhile(): AppError {
  return new AppError('invalid_state_transition', 'The petition changed meanwhile; reload and try again.');
}
