import type { PetitionStateValue } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';

export type PetitionState = PetitionStateValue;

/**
 * Every allowed change of state, in one place. Moderation (pending, rejected) and the
 * hand-in (delivered) join this table in their own issues.
 */
const TRANSITIONS: Record<PetitionState, readonly PetitionState[]> = {
  draft: ['open'],
  open: ['closed'],
  closed: [],
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
 * even in the moment before the deadline job has recorded it.
 */
export function effectiveState(petition: { state: PetitionState; deadline: string | null }, now: Date): PetitionState {
  if (petition.state === 'open' && petition.deadline && petition.deadline <= now.toISOString()) return 'closed';
  return petition.state;
}

/** Only public (non-draft) petitions can be read by anyone. */
export function isPublicState(state: PetitionState): boolean {
  return state !== 'draft';
}
