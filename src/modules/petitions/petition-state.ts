import type { PetitionStateValue } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';

export type PetitionState = PetitionStateValue;

export const PETITION_STATES: readonly PetitionState[] = ['draft', 'pending', 'open', 'closed', 'rejected', 'delivered'];

/**
 * Every allowed change of state, in one place:
 * - draft → pending: the campaigner submits it for moderation;
 * - draft → open: the shortcut for admins (and owners when moderation is off);
 * - pending → open | rejected: a moderator publishes or rejects it;
 * - rejected → pending: resubmitted after an edit;
 * - open → closed: its deadline passed, or its owner or a moderator closed it;
 * - open | closed → delivered: handed in to the decision-maker (an open petition closes then).
 * The outcome (won, lost…) is recorded beside the state, not as one.
 */
const TRANSITIONS: Record<PetitionState, readonly PetitionState[]> = {
  draft: ['pending', 'open'],
  pending: ['open', 'rejected'],
  rejected: ['pending'],
  open: ['closed', 'delivered'],
  closed: ['delivered'],
  delivered: [],
};

export function canTransition(from: PetitionState, to: PetitionState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws `invalid_state_transition` unless `from → to` is allowed. */
export function assertTransition(from: PetitionState, to: PetitionState): void {
  if (!canTransition(from, to)) {
    throw new AppError('invalid_state_transition', `A petition that is ${from} cannot become ${to}.`);
  }
}

/**
 * The state a reader should see: an open petition whose deadline has passed is closed,
 * even in the moment before the deadline closer has recorded it.
 */
export function effectiveState(petition: { state: PetitionState; deadline: string | null }, now: Date): PetitionState {
  if (petition.state === 'open' && petition.deadline && petition.deadline <= now.toISOString()) return 'closed';
  return petition.state;
}

/**
 * Whether a signature to this petition may still be confirmed: it is open, or it is pending and
 * gathering supporters (`gathersSupporters`: the site asks for supporters before moderation).
 */
export function confirmsSignatures(petition: { state: PetitionState; deadline: string | null }, now: Date, gathersSupporters: boolean): boolean {
  return effectiveState(petition, now) === 'open' || (gathersSupporters && petition.state === 'pending');
}

/** States in which a petition takes no more signatures, ever (its count changes only by removals and invalidations). */
export const NO_LONGER_SIGNED_STATES: readonly PetitionState[] = ['closed', 'rejected', 'delivered'];

/** States anyone may read (unless the petition is hidden). Drafts and pending ones belong to their team. */
export function isPublicState(state: PetitionState): boolean {
  return state === 'open' || state === 'closed' || state === 'rejected' || state === 'delivered';
}

/** States in which the team may still change the text: signers have not signed it yet. */
export function isEditableState(state: PetitionState): boolean {
  return state === 'draft' || state === 'rejected';
}
