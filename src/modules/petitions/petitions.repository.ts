import type { Db } from '../../db/database.ts';
import type { NewPetitionRow, PetitionRow, PetitionStateValue } from '../../db/schema.ts';

export type PetitionWithCount = PetitionRow & { signature_count: number };

export class PetitionsRepository {
  constructor(private readonly db: Db) {}

  async insert(row: NewPetitionRow): Promise<PetitionRow> {
    return this.db.kysely.insertInto('petitions').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async findBySlug(slug: string): Promise<PetitionWithCount | undefined> {
    return this.withCount().where('petitions.slug', '=', slug).executeTakeFirst();
  }

  async findById(id: number): Promise<PetitionWithCount | undefined> {
    return this.withCount().where('petitions.id', '=', id).executeTakeFirst();
  }

  /** Open petitions, newest first. */
  async listOpen(nowIso: string, limit: number): Promise<PetitionWithCount[]> {
    return this.withCount()
      .where('petitions.state', '=', 'open')
      .where((eb) => eb.or([eb('petitions.deadline', 'is', null), eb('petitions.deadline', '>', nowIso)]))
      .orderBy('petitions.opened_at', 'desc')
      .orderBy('petitions.id', 'desc')
      .limit(limit)
      .execute();
  }

  async listByOwner(ownerId: number): Promise<PetitionWithCount[]> {
    return this.withCount().where('petitions.owner_id', '=', ownerId).orderBy('petitions.created_at', 'desc').execute();
  }

  /**
   * Moves a petition from one state to another; returns false when it was no longer in `from`
   * (someone else changed it first), so concurrent changes cannot both win.
   */
  async changeState(
    id: number,
    from: PetitionStateValue,
    to: PetitionStateValue,
    changes: Partial<Pick<PetitionRow, 'opened_at' | 'closed_at' | 'updated_at'>>,
  ): Promise<boolean> {
    const result = await this.db.kysely
      .updateTable('petitions')
      .set({ state: to, ...changes })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The confirmed count is the sum of a petition's counter shards: a few rows by primary key, no COUNT(*). */
  private withCount() {
    return this.db.kysely
      .selectFrom('petitions')
      .selectAll('petitions')
      .select((eb) =>
        eb.fn
          .coalesce(
            eb
              .selectFrom('petition_counters')
              .select((c) => c.fn.sum<number>('petition_counters.confirmed_count').as('n'))
              .whereRef('petition_counters.petition_id', '=', 'petitions.id'),
            eb.lit(0),
          )
          .as('signature_count'),
      );
  }
}
