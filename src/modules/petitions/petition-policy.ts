import type { MemberRole, UserRole } from '../../db/schema.ts';
import { AppError, forbidden } from '../../lib/errors.ts';
import { isEditableState, isPublicState, type PetitionState } from './petition-state.ts';

/**
 * Who may do what to a petition: the one place authorisation is decided. Services call
 * {@link authorize} before every read or change; routes never decide.
 */
export type PetitionAction =
  | 'view'
  | 'edit'
  | 'moderate_edit'
  | 'submit'
  | 'open'
  | 'publish'
  | 'reject'
  | 'hide'
  | 'close'
  | 'view_team'
  | 'manage_team'
  | 'view_audit'
  | 'campaign'
  | 'verify_endorsement'
  | 'export'
  | 'export_summary'
  | 'record_handin'
  | 'review_fraud';

/** The person acting: their site role, and their role on this petition's team. */
export interface Actor {
  userId: number;
  siteRole: UserRole;
  memberRole: MemberRole | null;
}

export interface PolicyPetition {
  state: PetitionState;
  hidden: boolean;
}

export interface PolicyOptions {
  /** With moderation off, owners open their own petitions without review. */
  moderation: boolean;
}

export function isModerator(role: UserRole | undefined | null): boolean {
  return role === 'admin' || role === 'moderator';
}

/** True when `actor` (null: an anonymous visitor) may take `action` on `petition`. */
export function can(actor: Actor | null, action: PetitionAction, petition: PolicyPetition, options: PolicyOptions): boolean {
  const moderator = isModerator(actor?.siteRole);
  const member = actor?.memberRole ?? null;
  const owner = member === 'owner';
  const editor = owner || member === 'editor';
  switch (action) {
    case 'view':
      if (moderator || member) return true;
      return isPublicState(petition.state) && !petition.hidden;
    case 'edit':
      return editor && isEditableState(petition.state);
    case 'campaign':
    case 'record_handin':
      // Updates, endorsements, press, messages to signers, paper signatures, the hand-in and its
      // outcome: the team's owners and editors.
      return editor;
    case 'export':
      // Signers' personal data: owners and editors only (and admins, for data-protection requests).
      return editor || actor?.siteRole === 'admin';
    case 'export_summary':
      return !!member || moderator;
    case 'verify_endorsement':
    case 'moderate_edit':
    case 'publish':
    case 'reject':
    case 'hide':
    case 'view_audit':
    case 'review_fraud':
      // Fraud review sees where signatures came from; invalidating them changes the count.
      return moderator;
    case 'submit':
      return owner;
    case 'open':
      return actor?.siteRole === 'admin' || (owner && !options.moderation);
    case 'close':
      return owner || moderator;
    case 'view_team':
      return !!member || moderator;
    case 'manage_team':
      return owner || actor?.siteRole === 'admin';
  }
}

/**
 * Throws unless the actor may act. Someone who may not even see the petition gets
 * "not found", so drafts and hidden petitions do not leak; otherwise "forbidden".
 */
export function authorize(actor: Actor | null, action: PetitionAction, petition: PolicyPetition, options: PolicyOptions): void {
  if (can(actor, action, petition, options)) return;
  if (!can(actor, 'view', petition, options)) {
    throw new AppError('petition_not_found', 'There is no petition at this address.');
  }
  if (!actor) throw new AppError('unauthenticated', 'Please sign in first.');
  throw forbidden(FORBIDDEN_MESSAGES[action]);
}

const FORBIDDEN_MESSAGES: Record<PetitionAction, string> = {
  view: 'You cannot see this petition.',
  edit: 'Only the petition’s owners and editors can change it, and only before it is published.',
  moderate_edit: 'Once a petition is under review or published, its text is fixed: people sign that text. Ask a moderator to correct a mistake.',
  submit: 'Only the petition’s owners can submit it for moderation.',
  open: 'Petitions are published by moderators after review. Submit it for moderation instead.',
  publish: 'Only moderators can publish petitions.',
  reject: 'Only moderators can reject petitions.',
  hide: 'Only moderators can hide petitions.',
  close: 'Only the petition’s owners or a moderator can close it.',
  view_team: 'Only the petition’s team can see this.',
  manage_team: 'Only the petition’s owners can manage its team.',
  view_audit: 'Only moderators can see the audit log.',
  campaign: 'Only the petition’s owners and editors can do that.',
  verify_endorsement: 'Only moderators can verify endorsements.',
  export: 'Only the petition’s owners and editors can download signers’ details. Viewers can download the summary.',
  export_summary: 'Only the petition’s team can download its statistics.',
  record_handin: 'Only the petition’s owners and editors can record paper signatures, the hand-in and the outcome.',
  review_fraud: 'Only moderators can review and invalidate signatures.',
};
