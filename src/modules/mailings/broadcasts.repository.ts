import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import type { BroadcastKind } from '../../db/schema.ts';
import { mailable } from '../signatures/signatures.repository.ts';

export interface Broadcast {
  id: number;
  petitionId: number;
  kind: BroadcastKind;
  updateId: number | null;
  subject: string;
  body: string;
  createdAt: string;
  total: number;
  sent: number;
  finishedAt: string | null;
}

export interface Recipient {
  signatureId: number;
  name: string;
  email: string;
  /** The language the signer signed in ('en' or 'cy'). */
  language: string;
}

/** Emails to a petition's signers, and the per-recipient record that makes each go out once. */
export class BroadcastsRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  /**
   * Records a broadcast to every confirmed signer who agreed to be contacted, fixing the
   * recipients as those who signed so far; `effects` receives the id (to queue the sending job).
   */
  async create(
    input: { petitionId: number; kind: BroadcastKind; updateId: number | null; subject: string; body: string; createdBy: number | null },
    effects: (id: number) => Effects,
    now: Date,
  ): Promise<number> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const audience = await trx
        .selectFrom('signatures')
        .select((eb) => [eb.fn.max('id').as('max_id'), eb.fn.countAll<number>().as('n')])
        .where('petition_id', '=', input.petitionId)
        .where(mailable)
        .executeTakeFirstOrThrow();
      const { id } = await trx
        .insertInto('broadcasts')
        .values({
          petition_id: input.petitionId,
          kind: input.kind,
          update_id: input.updateId,
          subject: input.subject,
          body: input.body,
          created_by: input.createdBy,
          created_at: now.toISOString(),
          max_signature_id: Number(audience.max_id ?? 0),
          total: Number(audience.n),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.effects.write(trx, effects(id), now);
      return id;
    });
  }

  async find(id: number): Promise<Broadcast | null> {
    const rows = await this.db.kysely.selectFrom('broadcasts').selectAll().where('id', '=', id).execute();
    return rows[0] ? toBroadcast(rows[0]) : null;
  }

  async listForPetition(petitionId: number): Promise<Broadcast[]> {
    const rows = await this.db.kysely.selectFrom('broadcasts').selectAll().where('petition_id', '=', petitionId).orderBy('id', 'desc').execute();
    return rows.map(toBroadcast);
  }

  /**
   * The next recipients after signature `afterId` who have no delivery record yet and still want
   * to hear from the campaign (someone who unsubscribed meanwhile is skipped).
   */
  async nextRecipients(broadcast: { id: number; petitionId: number }, afterId: number, maxSignatureId: number, limit: number): Promise<Recipient[]> {
    const rows = await this.db.kysely
      .selectFrom('signatures')
      .select(['signatures.id', 'signatures.name', 'signatures.email', 'signatures.language'])
      .where('signatures.petition_id', '=', broadcast.petitionId)
      .where(mailable)
      // On from the broadcast's progress: only the last batch's recipients have delivery rows to skip.
      .where('signatures.id', '>', afterId)
      .where('signatures.id', '<=', maxSignatureId)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('broadcast_deliveries')
              .select('broadcast_deliveries.signature_id')
              .where('broadcast_deliveries.broadcast_id', '=', broadcast.id)
              .whereRef('broadcast_deliveries.signature_id', '=', 'signatures.id'),
          ),
        ),
      )
      .orderBy('signatures.id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ signatureId: r.id, name: r.name, email: r.email, language: r.language }));
  }

  /** Where sending stands: recipients are those up to `maxSignatureId`; all up to `progressId` were dealt with. */
  async progress(broadcastId: number): Promise<{ maxSignatureId: number; progressId: number }> {
    const row = await this.db.kysely.selectFrom('broadcasts').select(['max_signature_id', 'progress_id']).where('id', '=', broadcastId).executeTakeFirst();
    return { maxSignatureId: Number(row?.max_signature_id ?? 0), progressId: Number(row?.progress_id ?? 0) };
  }

  /**
   * Reserves a batch of recipients before sending, in one statement; returns those this call
   * reserved: not those someone (another worker, an earlier run) already did, and none once the
   * broadcast has finished (its reservations are deleted then, and a worker that ran past its
   * lock must not take them for free places: checked after the insert, in its transaction, so a
   * finish committed before it is seen).
   */
  async claimDeliveries(broadcastId: number, signatureIds: number[], now: Date): Promise<Set<number>> {
    if (signatureIds.length === 0) return new Set();
    try {
      return await this.db.kysely.transaction().execute(async (trx) => {
        const claimed = await trx
          .insertInto('broadcast_deliveries')
          .values(signatureIds.map((signatureId) => ({ broadcast_id: broadcastId, signature_id: signatureId, state: 'sending' as const, created_at: now.toISOString() })))
          .onConflict((oc) => oc.columns(['broadcast_id', 'signature_id']).doNothing())
          .returning('signature_id')
          .execute();
        if (claimed.length === 0) return new Set<number>();
        const open = await trx.selectFrom('broadcasts').select('id').where('id', '=', broadcastId).where('finished_at', 'is', null).executeTakeFirst();
        if (!open) throw new BroadcastFinished();
        return new Set(claimed.map((r) => Number(r.signature_id)));
      });
    } catch (err) {
      if (err instanceof BroadcastFinished) return new Set();
      throw err;
    }
  }

  /** Counts emails sent, and (`throughId`) moves the progress on past a batch whose every recipient was dealt with. */
  async recordSent(broadcastId: number, sent: number, throughId: number | null): Promise<void> {
    if (sent === 0 && throughId === null) return;
    await this.db.kysely
      .updateTable('broadcasts')
      .set((eb) => ({ sent_count: eb('sent_count', '+', sent), ...(throughId === null ? {} : { progress_id: sql<number>`case when progress_id < ${throughId} then ${throughId} else progress_id end` }) }))
      .where('id', '=', broadcastId)
      .execute();
  }

  /** Gives reservations back (the mail server refused a message of the batch), so a retry sends to them. */
  async releaseDeliveries(broadcastId: number, signatureIds: number[]): Promise<void> {
    if (signatureIds.length === 0) return;
    await this.db.kysely.deleteFrom('broadcast_deliveries').where('broadcast_id', '=', broadcastId).where('signature_id', 'in', signatureIds).where('state', '=', 'sending').execute();
  }

  async finish(broadcastId: number, now: Date): Promise<void> {
    await this.db.kysely
      .updateTable('broadcasts')
      .set({ finished_at: now.toISOString() })
      .where('id', '=', broadcastId)
      .where('finished_at', 'is', null)
      .execute();
  }

  /**
   * Deletes up to `limit` delivery rows of a finished broadcast; returns how many went. A few
   * thousand at a time: on SQLite each delete holds the write lock signing needs.
   */
  async forgetDeliveries(broadcastId: number, limit: number): Promise<number> {
    const result = await this.db.kysely
      .deleteFrom('broadcast_deliveries')
      .where('broadcast_id', '=', broadcastId)
      .where('signature_id', 'in', (eb) => eb.selectFrom('broadcast_deliveries').select('signature_id').where('broadcast_id', '=', broadcastId).orderBy('signature_id').limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Stops campaign emails to one signature (unsubscribe); returns its petition id, or null. */
  async unsubscribe(signatureId: number, now: Date): Promise<number | null> {
    const row = await this.db.kysely
      .updateTable('signatures')
      .set((eb) => ({ contact_opt_in: 0, unsubscribed_at: eb.fn.coalesce('unsubscribed_at', eb.val(now.toISOString())) }))
      .where('id', '=', signatureId)
      .returning('petition_id')
      .executeTakeFirst();
    return row?.petition_id ?? null;
  }
}

function toBroadcast(row: {
  id: number;
  petition_id: number;
  kind: BroadcastKind;
  update_id: number | null;
  subject: string;
  body: string;
  created_at: string;
  total: number;
  sent_count: number;
  finished_at: string | null;
}): Broadcast {
  return {
    id: row.id,
    petitionId: row.petition_id,
    kind: row.kind,
    updateId: row.update_id,
    subject: row.subject,
    body: row.body,
    createdAt: row.created_at,
    total: Number(row.total),
    sent: Number(row.sent_count),
    finishedAt: row.finished_at,
  };
}

/** Rolls back a reservation made after the broadcast finished (see claimDeliveries). */
class BroadcastFinished extends Error {}
