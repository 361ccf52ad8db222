import { sql, type ExpressionBuilder } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { EffectsWriter, Effects } from '../../db/effects.ts';
import type { Database, MemberRole, NewPetitionRow, PetitionRow, PetitionStateValue } from '../../db/schema.ts';

/** A petition row with its confirmed count (the sum of its counter shards). */
export type PetitionWithCount = PetitionRow & { signature_count: number | null; paper_count?: number | null };

/** The confirmed count is the sum of a petition's counter shards: a few rows by primary key, no COUNT(*). */
function confirmedCount(eb: ExpressionBuilder<Database, 'petitions'>) {
  return eb
    .selectFrom('petition_counters')
    .select((c) => c.fn.coalesce(c.fn.sum<number>('petition_counters.confirmed_count'), c.lit(0)).as('n'))
    .whereRef('petition_counters.petition_id', '=', 'petitions.id');
}

export type PetitionListFilter = 'open' | 'closed' | 'rejected' | 'victories';

/** What a search among open petitions needs of each (PetitionsRepository.openSummaries). */
export interface OpenPetitionSummary {
  id: number;
  title: string;
  action: string;
  opened_at: string | null;
  created_at: string;
  deadline: string | null;
  signature_count: number;
}
export type PetitionSort = 'popular' | 'newest' | 'closing';

export interface PetitionListQuery {
  filter: PetitionListFilter;
  sort: PetitionSort;
  /** Words that must each appear in the title or the action. */
  words: string[];
  limit: number;
  offset: number;
}

type Changes = Partial<Omit<PetitionRow, 'id' | 'slug' | 'owner_id' | 'created_at'>>;

export class PetitionsRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  /** Inserts a petition with its creator as owner, and the creation's effects, atomically. */
  async insert(row: NewPetitionRow, effects: (id: number) => Effects, now: Date): Promise<PetitionRow> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const petition = await trx.insertInto('petitions').values(row).returningAll().executeTakeFirstOrThrow();
      await trx
        .insertInto('petition_members')
        .values({ petition_id: petition.id, user_id: row.owner_id, role: 'owner', created_at: row.created_at })
        .execute();
      await this.effects.write(trx, effects(petition.id), now);
      return petition;
    });
  }

  async findBySlug(slug: string): Promise<PetitionWithCount | undefined> {
    return this.withCount().where('petitions.slug', '=', slug).executeTakeFirst();
  }

  async findById(id: number): Promise<PetitionWithCount | undefined> {
    return this.withCount().where('petitions.id', '=', id).executeTakeFirst();
  }

  /** The role `userId` has on the petition's team, or null. */
  async memberRole(petitionId: number, userId: number): Promise<MemberRole | null> {
    const row = await this.db.kysely
      .selectFrom('petition_members')
      .select('role')
      .where('petition_id', '=', petitionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.role ?? null;
  }

  /**
   * Moves a petition from one state to another with its other changes and effects, atomically;
   * returns false when it was no longer in `from` (someone else changed it first).
   */
  async changeState(id: number, from: PetitionStateValue, to: PetitionStateValue, changes: Changes, effects: Effects, now: Date): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) => trx.updateTable('petitions').set({ ...changes, state: to, updated_at: now.toISOString() }).where('id', '=', id).where('state', '=', from).executeTakeFirst(),
      effects,
      now,
    );
  }

  /** Changes fields (text, visibility) while the petition is in one of `states`; false when it is not. */
  async update(id: number, states: readonly PetitionStateValue[], changes: Changes, effects: Effects, now: Date): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) => trx.updateTable('petitions').set({ ...changes, updated_at: now.toISOString() }).where('id', '=', id).where('state', 'in', states).executeTakeFirst(),
      effects,
      now,
    );
  }

  /**
   * Closes every open petition whose deadline has passed, recording each as closed at its
   * deadline. Safe to run from several processes at once: each row changes only once.
   */
  async closeExpired(now: Date, effects: (petition: { id: number; slug: string }) => Effects): Promise<{ id: number; slug: string }[]> {
    const nowIso = now.toISOString();
    return this.db.kysely.transaction().execute(async (trx) => {
      const closed = await trx
        .updateTable('petitions')
        .set((eb) => ({ state: 'closed', closed_at: eb.ref('deadline'), updated_at: nowIso }))
        .where('state', '=', 'open')
        .where('deadline', '<=', nowIso)
        .returning(['id', 'slug'])
        .execute();
      for (const petition of closed) await this.effects.write(trx, effects(petition), now);
      return closed;
    });
  }

  /**
   * Public listing: not hidden, filtered by effective state, searched and sorted; with the total
   * for paging. The page's petitions are chosen first and their counts read after, for those
   * twenty: with the counts in the sorted query, SQLite worked them out for every petition the
   * filter matched before sorting (34 ms for the first page of 20,000 closed petitions, 51 ms for
   * the fiftieth). Sorting by popularity needs every matching petition's count all the same.
   */
  async list(query: PetitionListQuery, nowIso: string): Promise<{ rows: PetitionWithCount[]; total: number }> {
    const filtered = this.filtered(query, nowIso);
    let chosen = filtered.select('petitions.id');
    if (query.sort === 'popular') chosen = chosen.orderBy(confirmedCount, 'desc');
    else if (query.sort === 'closing') chosen = chosen.orderBy(sql`petitions.deadline is null`).orderBy('petitions.deadline', 'asc');
    else if (query.filter === 'victories') chosen = chosen.orderBy('petitions.outcome_at', 'desc');
    else chosen = chosen.orderBy(sql`coalesce(petitions.opened_at, petitions.created_at)`, 'desc');
    const [ids, total] = await Promise.all([
      chosen.orderBy('petitions.id', 'desc').limit(query.limit).offset(query.offset).execute(),
      filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const order = ids.map((r) => r.id);
    const rows = order.length === 0 ? [] : await this.withCount().where('petitions.id', 'in', order).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return { rows: order.flatMap((id) => byId.get(id) ?? []), total: Number(total.n) };
  }

  /**
   * Every open petition's id, text, times and count, for a search among them
   * (searchOpenPetitions): a few hundred bytes each, one read for many searches.
   */
  async openSummaries(nowIso: string): Promise<OpenPetitionSummary[]> {
    const rows = await this.filtered({ filter: 'open', sort: 'popular', words: [], limit: 0, offset: 0 }, nowIso)
      .select((eb) => ['petitions.id', 'petitions.title', 'petitions.action', 'petitions.opened_at', 'petitions.created_at', 'petitions.deadline', confirmedCount(eb).as('signature_count')])
      .execute();
    return rows.map((r) => ({ ...r, signature_count: Number(r.signature_count ?? 0) }));
  }

  /** Petitions with their counts, in the order of `ids` (those that exist). */
  async findManyById(ids: number[]): Promise<PetitionWithCount[]> {
    if (ids.length === 0) return [];
    const rows = await this.withCount().where('petitions.id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Submitted petitions waiting for a moderator, oldest first, once they have `minSignatures` supporters. */
  async listModerationQueue(minSignatures: number, limit: number): Promise<PetitionWithCount[]> {
    let query = this.withCount().where('petitions.state', '=', 'pending');
    if (minSignatures > 0) query = query.where((eb) => eb(confirmedCount(eb), '>=', minSignatures));
    return query.orderBy('petitions.submitted_at', 'asc').orderBy('petitions.id', 'asc').limit(limit).execute();
  }

  /** Petitions whose team `userId` is on, with their role, newest first. */
  async listForMember(userId: number): Promise<(PetitionWithCount & { member_role: MemberRole })[]> {
    return this.withCount()
      .innerJoin('petition_members', 'petition_members.petition_id', 'petitions.id')
      .select('petition_members.role as member_role')
      .where('petition_members.user_id', '=', userId)
      .orderBy('petitions.created_at', 'desc')
      .execute();
  }

  /** The confirmed counts of several petitions at once (live counts): a few counter rows each. */
  async signatureCounts(petitionIds: number[]): Promise<Map<number, number>> {
    if (petitionIds.length === 0) return new Map();
    const rows = await this.db.kysely
      .selectFrom('petition_counters')
      .select(['petition_id', (eb) => eb.fn.sum<number>('confirmed_count').as('n')])
      .where('petition_id', 'in', petitionIds)
      .groupBy('petition_id')
      .execute();
    return new Map(rows.map((r) => [r.petition_id, Number(r.n)]));
  }

  /** Confirmed signatures across the whole site: one sum over the counter rows. */
  async siteSignatureTotal(): Promise<number> {
    const row = await this.db.kysely
      .selectFrom('petition_counters')
      .innerJoin('petitions', 'petitions.id', 'petition_counters.petition_id')
      .select((eb) => eb.fn.sum<number>('petition_counters.confirmed_count').as('n'))
      .where('petitions.hidden_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  private filtered(query: PetitionListQuery, nowIso: string) {
    let q = this.db.kysely.selectFrom('petitions').where('petitions.hidden_at', 'is', null);
    if (query.filter === 'open') {
      q = q.where('petitions.state', '=', 'open').where((eb) => eb.or([eb('petitions.deadline', 'is', null), eb('petitions.deadline', '>', nowIso)]));
    } else if (query.filter === 'closed') {
      q = q.where((eb) =>
        eb.or([
          eb('petitions.state', 'in', ['closed', 'delivered']),
          eb.and([eb('petitions.state', '=', 'open'), eb('petitions.deadline', '<=', nowIso)]),
        ]),
      );
    } else if (query.filter === 'victories') {
      q = q.where('petitions.outcome', '=', 'won');
    } else {
      q = q.where('petitions.state', '=', 'rejected');
    }
    for (const word of query.words) {
      const pattern = `%${word.toLowerCase()}%`;
      q = q.where((eb) => eb.or([eb(eb.fn('lower', ['petitions.title']), 'like', pattern), eb(eb.fn('lower', ['petitions.action']), 'like', pattern)]));
    }
    return q;
  }

  private withCount() {
    return this.withCountFrom(this.db.kysely.selectFrom('petitions'));
  }

  private withCountFrom(from: ReturnType<PetitionsRepository['filtered']>) {
    return from.selectAll('petitions').select((eb) => [
      confirmedCount(eb).as('signature_count'),
      eb
        .selectFrom('paper_batches')
        .select((c) => c.fn.coalesce(c.fn.sum<number>('paper_batches.count'), c.lit(0)).as('n'))
        .whereRef('paper_batches.petition_id', '=', 'petitions.id')
        .as('paper_count'),
    ]);
  }
}
