import type { Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';

export interface PressLink {
  id: number;
  petitionId: number;
  outlet: string;
  headline: string;
  publishedOn: string;
  url: string;
  createdAt: string;
}

/** "In the news": coverage the team links to. */
export class PressRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  async insert(petitionId: number, link: Omit<PressLink, 'id' | 'petitionId' | 'createdAt'>, effects: (id: number) => Effects, now: Date): Promise<number> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('press_links')
        .values({ petition_id: petitionId, outlet: link.outlet, headline: link.headline, published_on: link.publishedOn, url: link.url, created_at: now.toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.effects.write(trx, effects(id), now);
      return id;
    });
  }

  async update(petitionId: number, id: number, link: Omit<PressLink, 'id' | 'petitionId' | 'createdAt'>, effects: Effects, now: Date): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) =>
        trx
          .updateTable('press_links')
          .set({ outlet: link.outlet, headline: link.headline, published_on: link.publishedOn, url: link.url })
          .where('id', '=', id)
          .where('petition_id', '=', petitionId)
          .executeTakeFirst(),
      effects,
      now,
    );
  }

  async delete(petitionId: number, id: number, effects: Effects, now: Date): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) => trx.deleteFrom('press_links').where('id', '=', id).where('petition_id', '=', petitionId).executeTakeFirst(),
      effects,
      now,
    );
  }

  /** Newest coverage first. */
  async list(petitionId: number): Promise<PressLink[]> {
    const rows = await this.db.kysely.selectFrom('press_links').selectAll().where('petition_id', '=', petitionId).orderBy('published_on', 'desc').orderBy('id', 'desc').execute();
    return rows.map((r) => ({ id: r.id, petitionId: r.petition_id, outlet: r.outlet, headline: r.headline, publishedOn: r.published_on, url: r.url, createdAt: r.created_at }));
  }
}
