import type { OpenPetitionSummary, PetitionSort } from './petitions.repository.ts';

/**
 * An open petition ready to be searched: its title and action lower-cased once, a line apart, and
 * its times as numbers (when it opened, or was created; its deadline, or null).
 */
export interface SearchablePetition {
  id: number;
  text: string;
  signatureCount: number;
  openedAt: number;
  deadline: number | null;
}

/** Prepares each open petition once, for the searches until the next read. */
export function searchable(open: readonly OpenPetitionSummary[]): SearchablePetition[] {
  return open.map((p) => ({
    id: p.id,
    // A word holds no line break (the search splits on white space), so it cannot match across the two.
    text: `${p.title}\n${p.action}`.toLowerCase(),
    signatureCount: p.signature_count,
    openedAt: Date.parse(p.opened_at ?? p.created_at),
    deadline: p.deadline === null ? null : Date.parse(p.deadline),
  }));
}

/**
 * A search among open petitions, in memory: the ids of those whose title or action holds every
 * word (as part of a word or whole, in any case), in the listing's order: most signatures first,
 * newest first, or closing soonest first (those without a deadline last); ties newest id first,
 * as the database orders listings (PetitionsRepository.list). `words` are lower-case.
 */
export function searchOpenPetitions(open: readonly SearchablePetition[], words: readonly string[], sort: PetitionSort): number[] {
  const matching = open.filter((p) => words.every((word) => p.text.includes(word)));
  const byId = (a: SearchablePetition, b: SearchablePetition) => b.id - a.id;
  const order: Record<PetitionSort, (a: SearchablePetition, b: SearchablePetition) => number> = {
    popular: (a, b) => b.signatureCount - a.signatureCount || byId(a, b),
    newest: (a, b) => b.openedAt - a.openedAt || byId(a, b),
    closing: (a, b) => {
      if (a.deadline === null || b.deadline === null) return a.deadline === b.deadline ? byId(a, b) : a.deadline === null ? 1 : -1;
      return a.deadline - b.deadline || byId(a, b);
    },
  };
  return matching.sort(order[sort]).map((p) => p.id);
}
