import slugify from '@sindresorhus/slugify';
import { randomBytes } from 'node:crypto';
import { isUniqueViolation } from '../../db/dialect.ts';
import { AppError, forbidden, validationError, type FieldErrors } from '../../lib/errors.ts';
import { endOfDayInZone, type Clock } from '../../lib/time.ts';
import type { User } from '../users/users.service.ts';
import { assertTransition, effectiveState, isPublicState, type PetitionState } from './petition-state.ts';
import type { PetitionWithCount, PetitionsRepository } from './petitions.repository.ts';
import { CreatePetitionInput, type PetitionOutput } from './petitions.schema.ts';

/** A petition as the rest of the application sees it. */
export interface Petition {
  id: number;
  slug: string;
  title: string;
  action: string;
  background: string;
  target: { name: string; role: string | null; organisation: string | null };
  deadline: string | null;
  goal: number | null;
  /** The state a reader sees (an open petition past its deadline is closed). */
  state: PetitionState;
  ownerId: number;
  signatureCount: number;
  createdAt: string;
  updatedAt: string;
  openedAt: string | null;
  closedAt: string | null;
}

/** Paths that live beside /petitions/{slug} and so cannot be slugs. */
const RESERVED_SLUGS = new Set(['new', 'search', 'open', 'closed', 'feed', 'api']);
const MAX_SLUG_LENGTH = 60;

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

export class PetitionsService {
  constructor(
    private readonly petitions: PetitionsRepository,
    private readonly clock: Clock,
    private readonly options: { timeZone: string; baseUrl: string },
  ) {}

  /** Starts a petition in the `draft` state, owned by `user`. */
  async createPetition(user: User, input: unknown): Promise<Petition> {
    const parsed = CreatePetitionInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const data = parsed.data;
    const now = this.clock();
    const deadline = data.deadline ? this.deadlineInstant(data.deadline) : null;
    if (deadline && deadline <= now.toISOString()) {
      throw new AppError('validation_failed', 'The deadline must be in the future', { field: 'deadline' });
    }
    const base = slugForTitle(data.title);
    const nowIso = now.toISOString();
    // The plain slug when free, otherwise a short random suffix; the unique index settles races.
    for (let attempt = 0; attempt < 5; attempt++) {
      const slug = attempt === 0 ? base : `${base}-${randomBytes(3).toString('hex')}`;
      try {
        const row = await this.petitions.insert({
          slug,
          title: data.title,
          action: data.action,
          background: data.background,
          target_name: data.target.name,
          target_role: data.target.role,
          target_organisation: data.target.organisation,
          deadline,
          goal: data.goal ?? null,
          state: 'draft',
          owner_id: user.id,
          created_at: nowIso,
          updated_at: nowIso,
        });
        return this.toPetition({ ...row, signature_count: 0 });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw new AppError('internal_error', 'Could not find a free address for this petition; please try again.');
  }

  /** Opens a draft for signing. The owner or an admin may do this (moderation comes later). */
  async openPetition(user: User, slug: string): Promise<Petition> {
    const petition = await this.getManageable(user, slug);
    assertTransition(petition.state, 'open');
    const now = this.clock();
    if (petition.deadline && petition.deadline <= now.toISOString()) {
      throw new AppError('validation_failed', 'The deadline has passed; set a new one before opening', { field: 'deadline' });
    }
    const nowIso = now.toISOString();
    const changed = await this.petitions.changeState(petition.id, 'draft', 'open', { opened_at: nowIso, updated_at: nowIso });
    if (!changed) throw new AppError('invalid_state_transition', 'The petition changed meanwhile; reload and try again.');
    return this.requireById(petition.id);
  }

  /** Closes an open petition early (owner or admin). */
  async closePetition(user: User, slug: string): Promise<Petition> {
    const petition = await this.getManageable(user, slug);
    assertTransition(petition.state, 'closed');
    const nowIso = this.clock().toISOString();
    const changed = await this.petitions.changeState(petition.id, 'open', 'closed', { closed_at: nowIso, updated_at: nowIso });
    if (!changed) throw new AppError('invalid_state_transition', 'The petition changed meanwhile; reload and try again.');
    return this.requireById(petition.id);
  }

  /**
   * A petition as `viewer` may see it: public petitions for everyone, drafts only for their
   * owner and admins. Anything else is "not found", so drafts do not leak.
   */
  async getForViewer(slug: string, viewer: User | null): Promise<Petition> {
    const row = await this.petitions.findBySlug(slug);
    if (!row) throw petitionNotFound();
    const petition = this.toPetition(row);
    if (!isPublicState(petition.state) && !(viewer && canManage(viewer, petition))) throw petitionNotFound();
    return petition;
  }

  async getById(id: number): Promise<Petition | null> {
    const row = await this.petitions.findById(id);
    return row ? this.toPetition(row) : null;
  }

  /** True while the petition takes signatures: open and before its deadline. */
  acceptsSignatures(petition: Pick<Petition, 'state' | 'deadline'>): boolean {
    return effectiveState(petition, this.clock()) === 'open';
  }

  async listOpen(limit = 20): Promise<Petition[]> {
    const rows = await this.petitions.listOpen(this.clock().toISOString(), limit);
    return rows.map((r) => this.toPetition(r));
  }

  async listOwnedBy(user: User): Promise<Petition[]> {
    return (await this.petitions.listByOwner(user.id)).map((r) => this.toPetition(r));
  }

  canManage(user: User | null, petition: Petition): boolean {
    return !!user && canManage(user, petition);
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
      target: petition.target,
      state: petition.state,
      signature_count: petition.signatureCount,
      goal: petition.goal,
      deadline: petition.deadline,
      url: this.urlFor(petition),
      created_at: petition.createdAt,
      opened_at: petition.openedAt,
      closed_at: petition.closedAt ?? (petition.state === 'closed' ? petition.deadline : null),
    };
  }

  private async getManageable(user: User, slug: string): Promise<Petition> {
    const petition = await this.getForViewer(slug, user);
    if (!canManage(user, petition)) throw forbidden('Only the petition’s owner or an administrator can do that.');
    return petition;
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

  private toPetition(row: PetitionWithCount): Petition {
    return {
      id: row.id,
      slug: row.slug,
      title: row.title,
      action: row.action,
      background: row.background,
      target: { name: row.target_name, role: row.target_role, organisation: row.target_organisation },
      deadline: row.deadline,
      goal: row.goal,
      state: effectiveState(row, this.clock()),
      ownerId: row.owner_id,
      signatureCount: Number(row.signature_count),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      openedAt: row.opened_at,
      closedAt: row.closed_at,
    };
  }
}

function canManage(user: User, petition: Pick<Petition, 'ownerId'>): boolean {
  return user.role === 'admin' || petition.ownerId === user.id;
}

export function petitionNotFound(): AppError {
  return new AppError('petition_not_found', 'There is no petition at this address.');
}
