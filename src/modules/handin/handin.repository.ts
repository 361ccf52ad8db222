import { sql, type Selectable } from 'kysely';
import { scanOnReader, streamOnReader, type Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import type { DeliveriesTable, Outcome, PaperBatchesTable, ResponsesTable } from '../../db/schema.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';

export type PaperBatch = Selectable<PaperBatchesTable>;
export type Delivery = Selectable<DeliveriesTable> & { photos: { uploadId: number; caption: string | null }[] };
export type Response = Selectable<ResponsesTable>;

/** A confirmed signature as the hand-in pack and the export read it. */
export interface SignatureForExport {
  id: number;
  name: string;
  email: string;
  postcode: string | null;
  country: string;
  public_name: number;
  contact_opt_in: number;
  created_at: string;
  confirmed_at: string | null;
}

/** Paper signatures, the hand-in, the response and the outcome; and the streams that exports read. */
export class HandinRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  /** Records a batch of paper signatures (a tally, or imported names) with its effects. */
  async insertPaperBatch(
    batch: Omit<PaperBatch, 'id'>,
    names: { name: string; postcode: string | null; country: string }[],
    effects: (id: number) => Effects,
    now: Date,
  ): Promise<number> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('paper_batches').values(batch).returning('id').executeTakeFirstOrThrow();
      for (let i = 0; i < names.length; i += 500) {
        await trx
          .insertInto('paper_signatures')
          .values(names.slice(i, i + 500).map((n) => ({ petition_id: batch.petition_id, batch_id: id, ...n })))
          .execute();
      }
      await this.effects.write(trx, effects(id), now);
      return id;
    });
  }

  async deletePaperBatch(petitionId: number, id: number, effects: Effects, now: Date): Promise<boolean> {
    return this.effects.changeOne(this.db.kysely, (trx) => trx.deleteFrom('paper_batches').where('id', '=', id).where('petition_id', '=', petitionId).executeTakeFirst(), effects, now);
  }

  async listPaperBatches(petitionId: number): Promise<PaperBatch[]> {
    return this.db.kysely.selectFrom('paper_batches').selectAll().where('petition_id', '=', petitionId).orderBy('collected_on').orderBy('id').execute();
  }

  /** Which of these addresses already signed online (for flagging duplicates in a paper import). */
  async onlineEmails(petitionId: number, emails: string[]): Promise<Set<string>> {
    const byKey = new Map(emails.map((email) => [signatureEmailKey(email), email]));
    const keys = [...byKey.keys()];
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await this.db.kysely
        .selectFrom('signatures')
        .select('email_key')
        .where('petition_id', '=', petitionId)
        .where('email_key', 'in', keys.slice(i, i + 500))
        .execute();
      for (const r of rows) found.add(byKey.get(r.email_key)!);
    }
    return found;
  }

  /** Records the hand-in and moves the petition to `delivered`, atomically; false if it could not be delivered now. */
  async recordDelivery(petitionId: number, fromStates: readonly ('open' | 'closed')[], delivery: Omit<Selectable<DeliveriesTable>, 'petition_id'>, effects: Effects, now: Date): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('petitions')
        .set((eb) => ({
          state: 'delivered',
          delivered_at: delivery.delivered_at,
          closed_at: eb.fn.coalesce('closed_at', eb.val(delivery.delivered_at)),
          updated_at: now.toISOString(),
        }))
        .where('id', '=', petitionId)
        .where('state', 'in', fromStates)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return false;
      await trx.insertInto('deliveries').values({ petition_id: petitionId, ...delivery }).execute();
      await this.effects.write(trx, effects, now);
      return true;
    });
  }

  async addDeliveryPhoto(petitionId: number, uploadId: number, caption: string | null, now: Date): Promise<void> {
    await this.db.kysely.insertInto('delivery_photos').values({ petition_id: petitionId, upload_id: uploadId, caption, created_at: now.toISOString() }).execute();
  }

  async findDelivery(petitionId: number): Promise<Delivery | null> {
    const row = await this.db.kysely.selectFrom('deliveries').selectAll().where('petition_id', '=', petitionId).executeTakeFirst();
    if (!row) return null;
    const photos = await this.db.kysely.selectFrom('delivery_photos').select(['upload_id', 'caption']).where('petition_id', '=', petitionId).orderBy('created_at').execute();
    return { ...row, photos: photos.map((p) => ({ uploadId: p.upload_id, caption: p.caption })) };
  }

  /** Records (or replaces) the decision-maker's response. */
  async saveResponse(response: Selectable<ResponsesTable>, effects: Effects, now: Date): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      await trx.deleteFrom('responses').where('petition_id', '=', response.petition_id).execute();
      await trx.insertInto('responses').values(response).execute();
      await this.effects.write(trx, effects, now);
    });
  }

  async findResponse(petitionId: number): Promise<Response | null> {
    return (await this.db.kysely.selectFrom('responses').selectAll().where('petition_id', '=', petitionId).executeTakeFirst()) ?? null;
  }

  async saveOutcome(petitionId: number, outcome: Outcome, summary: string | null, effects: Effects, now: Date): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) =>
        trx
          .updateTable('petitions')
          .set({ outcome, outcome_summary: summary, outcome_at: now.toISOString(), updated_at: now.toISOString() })
          .where('id', '=', petitionId)
          .executeTakeFirst(),
      effects,
      now,
    );
  }

  /**
   * A petition's confirmed signatures, UK signers first grouped by postcode (which groups them by
   * postcode district), then the rest by country. Streamed: memory stays flat for a million rows.
   */
  streamSignatures(petitionId: number): AsyncIterable<SignatureForExport> {
    // On a SQLite file from the reader thread: a million rows take seconds to sort and read, and a
    // stream here would hold the web thread's one connection (and so every page's reads) until the
    // download ends.
    return streamOnReader(this.db, 'handin.signatures', { petitionId }, () => signaturesForExport(this.db, petitionId).stream(1000));
  }

  /** Confirmed signatures per UK postcode district or country, for the summary. */
  countsByArea(petitionId: number): Promise<{ country: string; postcode: string | null; n: number }[]> {
    // Exact, so read from the signatures (the folded area counts lag by a few seconds): a scan of the petition.
    return scanOnReader(this.db, 'handin.areas', { petitionId }, () => countConfirmedByPostcode(this.db, petitionId));
  }
}

/** A petition's confirmed signatures counted by country and postcode (see HandinRepository.countsByArea). */
export async function countConfirmedByPostcode(db: Pick<Db, 'kysely'>, petitionId: number): Promise<{ country: string; postcode: string | null; n: number }[]> {
  const rows = await db.kysely
    .selectFrom('signatures')
    .select(['country', 'postcode', (eb) => eb.fn.countAll<number>().as('n')])
    .where('petition_id', '=', petitionId)
    .where('status', '=', 'confirmed')
    .groupBy(['country', 'postcode'])
    .execute();
  return rows.map((r) => ({ country: r.country, postcode: r.postcode, n: Number(r.n) }));
}

/** The query behind HandinRepository.streamSignatures (compiled on the reader thread for its own connection). */
export function signaturesForExport(db: Pick<Db, 'kysely'>, petitionId: number) {
  return db.kysely
    .selectFrom('signatures')
    .select(['id', 'name', 'email', 'postcode', 'country', 'public_name', 'contact_opt_in', 'created_at', 'confirmed_at'])
    .where('petition_id', '=', petitionId)
    .where('status', '=', 'confirmed')
    .orderBy(sql`case when country = 'GB' then 0 else 1 end`)
    .orderBy('country')
    .orderBy('postcode')
    .orderBy('id');
}
