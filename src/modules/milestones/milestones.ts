import { scanOnReader, type Db } from '../../db/database.ts';
import { sql } from 'kysely';
import { signatureTimeColumn } from '../../db/dialect.ts';
import { confirmedOnly } from '../signatures/signatures.repository.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import type { MilestoneKind } from '../../db/schema.ts';

/**
 * Signature counts worth celebrating: 100, 250, 500, 1,000, 1,500, 2,000, then every step of
 * the 1–2–5 series (5,000, 10,000, 20,000, 50,000…).
 */
export function milestoneThresholds(upTo: number): number[] {
  const list = [100, 250, 500, 1000, 1500, 2000];
  for (let magnitude = 1000; list.at(-1)! < upTo; magnitude *= 10) {
    for (const step of [5, 10, 20]) {
      const value = step * magnitude;
      if (value > list.at(-1)!) list.push(value);
    }
  }
  return list.filter((t) => t <= upTo);
}

/** The next step of the 1–2–5 series above `count`: the goal shown once the original goal is reached. */
export function nextGoal(count: number): number {
  let magnitude = 1;
  for (;;) {
    for (const step of [1, 2, 5]) if (step * magnitude > count) return step * magnitude;
    magnitude *= 10;
  }
}

export interface Milestone {
  kind: MilestoneKind;
  threshold: number;
  reachedAt: string;
}

export const MILESTONE_JOB = 'petition.milestone_notice';

/** Records milestones. Detection runs in the worker, never on the signing path. */
export class MilestonesRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  async list(petitionId: number): Promise<Milestone[]> {
    const rows = await this.db.kysely.selectFrom('milestones').selectAll().where('petition_id', '=', petitionId).orderBy('reached_at').orderBy('threshold').execute();
    return rows.map((r) => ({ kind: r.kind, threshold: r.threshold, reachedAt: r.reached_at }));
  }

  /**
   * Open (and gathering) petitions and those closed since `closedSince`, with their counts and
   * goals: candidates for new milestones. A closed petition confirms no more signatures, so one
   * closed long ago is not looked at again every sweep (a national site keeps tens of thousands).
   */
  async countsToCheck(closedSince: Date): Promise<{ id: number; goal: number | null; count: number }[]> {
    const rows = await this.db.kysely
      .selectFrom('petitions')
      .innerJoin('petition_counters', 'petition_counters.petition_id', 'petitions.id')
      .select(['petitions.id', 'petitions.goal', (eb) => eb.fn.sum<number>('petition_counters.confirmed_count').as('n')])
      .where((eb) => eb.or([eb('petitions.state', 'in', ['open', 'pending']), eb.and([eb('petitions.state', '=', 'closed'), eb('petitions.closed_at', '>=', closedSince.toISOString())])]))
      .groupBy(['petitions.id', 'petitions.goal'])
      .execute();
    return rows.map((r) => ({ id: r.id, goal: r.goal, count: Number(r.n) }));
  }

  /** The milestones these petitions have already recorded ("kind:threshold"), in a query for each 500. */
  async recorded(petitionIds: number[]): Promise<Map<number, Set<string>>> {
    const recorded = new Map<number, Set<string>>(petitionIds.map((id) => [id, new Set<string>()]));
    for (let i = 0; i < petitionIds.length; i += 500) {
      const rows = await this.db.kysely.selectFrom('milestones').select(['petition_id', 'kind', 'threshold']).where('petition_id', 'in', petitionIds.slice(i, i + 500)).execute();
      for (const r of rows) recorded.get(r.petition_id)?.add(`${r.kind}:${r.threshold}`);
    }
    return recorded;
  }

  /**
   * When the n-th confirmation happened: the exact moment a threshold was passed. Walks the
   * petition's confirmed signatures in order up to the n-th (about a second for the ten
   * millionth), so on a SQLite file it runs on the reader thread: on the web thread it would stop
   * every page for that long, at the peak that passed the milestone.
   */
  nthConfirmationTime(petitionId: number, n: number): Promise<string | null> {
    return scanOnReader(this.db, 'milestones.nth', { petitionId, n }, () => readNthConfirmationTime(this.db, petitionId, n));
  }

  /** Records a milestone once (several workers may find it at the same moment). */
  async record(petitionId: number, kind: MilestoneKind, threshold: number, reachedAt: string, effects: Effects, now: Date): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('milestones')
        .values({ petition_id: petitionId, kind, threshold, reached_at: reachedAt })
        .onConflict((oc) => oc.columns(['petition_id', 'kind', 'threshold']).doNothing())
        .returning('threshold')
        .executeTakeFirst();
      if (!inserted) return false;
      await this.effects.write(trx, effects, now);
      return true;
    });
  }
}

/** The time of a petition's n-th confirmation (see MilestonesRepository.nthConfirmationTime; also run by the SQLite reader thread). */
export async function readNthConfirmationTime(db: Pick<Db, 'kysely' | 'kind'>, petitionId: number, n: number): Promise<string | null> {
  const row = await db.kysely
    .selectFrom('signatures')
    .select('confirmed_at')
    .where('petition_id', '=', petitionId)
    .where(confirmedOnly)
    // The stored column, in the order of the partial index (see signatureTimeColumn).
    .orderBy(sql.ref(signatureTimeColumn(db.kind, 'confirmed_at')))
    .orderBy('id')
    .offset(n - 1)
    .limit(1)
    .executeTakeFirst();
  return row?.confirmed_at ?? null;
}
