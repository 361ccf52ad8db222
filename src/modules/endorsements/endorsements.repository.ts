import type { Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import type { EndorsementKind, EndorsementsTable } from '../../db/schema.ts';
import type { Selectable } from 'kysely';

export interface Endorsement {
  id: number;
  petitionId: number;
  kind: EndorsementKind;
  name: string;
  role: string | null;
  organisation: string | null;
  quote: string | null;
  url: string | null;
  imageUploadId: number | null;
  position: number;
  invitedEmail: string | null;
  verified: boolean;
  createdAt: string;
}

export type EndorsementFields = Pick<Endorsement, 'kind' | 'name' | 'role' | 'organisation' | 'quote' | 'url'>;

/** Endorsements by people and organisations, in the order the campaign chose. */
export class EndorsementsRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  async insert(
    petitionId: number,
    fields: EndorsementFields & { imageUploadId: number | null; invitedEmail: string | null },
    effects: (id: number) => Effects,
    now: Date,
  ): Promise<number> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const last = await trx
        .selectFrom('endorsements')
        .select((eb) => eb.fn.max('position').as('p'))
        .where('petition_id', '=', petitionId)
        .executeTakeFirst();
      const { id } = await trx
        .insertInto('endorsements')
        .values({
          petition_id: petitionId,
          kind: fields.kind,
          name: fields.name,
          role: fields.role,
          organisation: fields.organisation,
          quote: fields.quote,
          url: fields.url,
          image_upload_id: fields.imageUploadId,
          invited_email: fields.invitedEmail,
          position: Number(last?.p ?? 0) + 1,
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
    changes: Partial<{ name: string; role: string | null; organisation: string | null; quote: string | null; url: string | null; kind: EndorsementKind; imageUploadId: number | null; invitedEmail: string | null; verifiedAt: string | null }>,
    effects: Effects,
    now: Date,
  ): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) =>
        trx
        .updateTable('endorsements')
        .set({
          ...(changes.kind !== undefined ? { kind: changes.kind } : {}),
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.role !== undefined ? { role: changes.role } : {}),
          ...(changes.organisation !== undefined ? { organisation: changes.organisation } : {}),
          ...(changes.quote !== undefined ? { quote: changes.quote } : {}),
          ...(changes.url !== undefined ? { url: changes.url } : {}),
          ...(changes.imageUploadId !== undefined ? { image_upload_id: changes.imageUploadId } : {}),
          ...(changes.invitedEmail !== undefined ? { invited_email: changes.invitedEmail } : {}),
          ...(changes.verifiedAt !== undefined ? { verified_at: changes.verifiedAt } : {}),
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
      (trx) => trx.deleteFrom('endorsements').where('id', '=', id).where('petition_id', '=', petitionId).executeTakeFirst(),
      effects,
      now,
    );
  }

  /** Swaps an endorsement with its neighbour in the chosen order. */
  async move(petitionId: number, id: number, direction: 'up' | 'down', now: Date): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      const all = await trx.selectFrom('endorsements').select(['id', 'position']).where('petition_id', '=', petitionId).orderBy('position').orderBy('id').execute();
      const index = all.findIndex((e) => e.id === id);
      const other = all[direction === 'up' ? index - 1 : index + 1];
      const self = all[index];
      if (!self || !other) return;
      await trx.updateTable('endorsements').set({ position: other.position, updated_at: now.toISOString() }).where('id', '=', self.id).execute();
      await trx.updateTable('endorsements').set({ position: self.position, updated_at: now.toISOString() }).where('id', '=', other.id).execute();
    });
  }

  async find(petitionId: number, id: number): Promise<Endorsement | null> {
    const row = await this.db.kysely.selectFrom('endorsements').selectAll().where('id', '=', id).where('petition_id', '=', petitionId).executeTakeFirst();
    return row ? toEndorsement(row) : null;
  }

  async findById(id: number): Promise<Endorsement | null> {
    const row = await this.db.kysely.selectFrom('endorsements').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toEndorsement(row) : null;
  }

  /** In the campaign's order (positions are unique per petition, ties broken by id). */
  async list(petitionId: number): Promise<Endorsement[]> {
    const rows = await this.db.kysely.selectFrom('endorsements').selectAll().where('petition_id', '=', petitionId).orderBy('position').orderBy('id').execute();
    return rows.map(toEndorsement);
  }
}

function toEndorsement(row: Selectable<EndorsementsTable>): Endorsement {
  return {
    id: row.id,
    petitionId: row.petition_id,
    kind: row.kind,
    name: row.name,
    role: row.role,
    organisation: row.organisation,
    quote: row.quote,
    url: row.url,
    imageUploadId: row.image_upload_id,
    position: row.position,
    invitedEmail: row.invited_email,
    verified: row.verified_at !== null,
    createdAt: row.created_at,
  };
}
