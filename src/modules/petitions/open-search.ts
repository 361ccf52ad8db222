import type { OpenPetitionSummary, PetitionSort } from './petitions.repository.ts';

/** An open petition ready to be searched: its title and action lower-cased once, a line apart. */
export type SearchablePetition = Omit<OpenPetitionSummary, 'title' | 'action'> & { text: string };

/** Lower-cases each petition's text once, for the searches until the next read. */
export function searchable(open: readonly OpenPetitionSummary[]): SearchablePetition[] {
  // A word holds no line break (the search splits on white space), so it cannot match across the two.
  return open.map(({ title, action, ...rest }) => ({ ...rest, text: `${title}\n${action}`.toLowerCase() }));
}

/**
 * A search among open petitions, in memory: the ids of those whose title or action holds every
 * word (as part of a word or whole, in any case), in the listing's order: most signatures first,
 * newest first, or closing soonest first (those without a deadline last); ties newest id first,
 * as the database orders listings (PetitionsRepository.list). `words` are lower-case.
 */
export function searchOpenPetitions(open: readonly SearchablePetition[], words: readonly string[], sort: PetitionSort): number[] {
  const matching = open.filter((p) => words.every((word) => p.text.includes(word)));
  const time = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  const byId = (a: SearchablePetition, b: SearchablePetition) => b.id - a.id;
  const order: Record<PetitionSort, (a: SearchablePetition, b: SearchablePetition) => number> = {
    popular: (a, b) => b.signature_count - a.signature_count || byId(a, b),
    newest: (a, b) => time(b.opened_at ?? b.created_at)! - time(a.opened_at ?? a.created_at)! || byId(a, b),
    closing: (a, b) => {
      const [x, y] = [time(a.deadline), time(b.deadline)];
      if (x === null || y === null) return x === y ? byId(a, b) : x === null ? 1 : -1;
      return x - y || byId(a, b);
    },
  };
  return matching.sort(order[sort]).map((p) => p.id);
}
