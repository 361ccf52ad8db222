import type { Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';

export interface Update {
  id: number;
  petitionId: number;
  authorId: number | null;
  authorName: string | null;
  title: string;
  body: string;
  imageUploadId: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface PublicUpdate extends Update {
  petitionSlug: string;
  petitionTitle: string;
}

/** Campaign updates: the petition's blog. */
export class UpdatesRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  async insert(
    input: { petitionId: number; authorId: number; title: string; body: string; imageUploadId: number | null },
    effects: (id: number) => Effects,
    now: Date,
  ): Promise<number> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('petition_updates')
        .values({
          petition_id: input.petitionId,
          author_id: input.authorId,
          title: input.title,
          body: input.body,
          image_upload_id: input.imageUploadId,
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.effects.write(trx, effects(id), now);
      return id;
    });
  }

  async update(
    petitionId: number,
    id: number,
    changes: { title: string; body: string; imageUploadId?: number | null },
    effects: Effects,
    now: Date,
  ): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) =>
        trx
          .updateTable('petition_updates')
          .set({
            title: changes.title,
            body: changes.body,
            ...(changes.imageUploadId !== undefined ? { image_upload_id: changes.imageUploadId } : {}),
            updated_at: now.toISOString(),
          })
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
      (trx) => trx.deleteFrom('petition_updates').where('id', '=', id).where('petition_id', '=', petitionId).executeTakeFirst(),
      effects,
      now,
    );
  }

  async find(petitionId: number, id: number): Promise<Update | null> {
    const row = await this.base().where('petition_updates.petition_id', '=', petitionId).where('petition_updates.id', '=', id).executeTakeFirst();
    return row ? toUpdate(row) : null;
  }

  /** Newest first. */
  async listForPetition(petitionId: number): Promise<Update[]> {
    const rows = await this.base().where('petition_updates.petition_id', '=', petitionId).orderBy('petition_updates.id', 'desc').execute();
    return rows.map(toUpdate);
  }

  /** The newest updates of public, visible petitions: the site's feed. */
  async listRecentPublic(limit: number): Promise<PublicUpdate[]> {
    const rows = await this.base()
      .innerJoin('petitions', 'petitions.id', 'petition_updates.petition_id')
      .select(['petitions.slug as petition_slug', 'petitions.title as petition_title'])
      .where('petitions.state', 'in', ['open', 'closed'])
      .where('petitions.hidden_at', 'is', null)
      .orderBy('petition_updates.id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...toUpdate(r), petitionSlug: r.petition_slug, petitionTitle: r.petition_title }));
  }

  private base() {
    return this.db.kysely
      .selectFrom('petition_updates')
      .leftJoin('users', 'users.id', 'petition_updates.author_id')
      .selectAll('petition_updates')
      .select('users.name as author_name');
  }
}

function toUpdate(row: {
  id: number;
  petition_id: number;
  author_id: number | null;
  author_name: string | null;
  title: string;
  body: string;
  image_upload_id: number | null;
  created_at: string;
  updated_at: string;
}): Update {
  return {
    id: row.id,
    petitionId: row.petition_id,
    authorId: row.author_id,
    authorName: row.author_name,
    title: row.title,
    body: row.body,
    imageUploadId: row.image_upload_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
