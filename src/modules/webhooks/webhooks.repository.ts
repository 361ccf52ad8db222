import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import type { WebhookDeliveriesTable, WebhooksTable } from '../../db/schema.ts';

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** Registered webhooks and their delivery log. */
export class WebhooksRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  async insert(row: Omit<WebhookRow, 'id' | 'deleted_at'>): Promise<WebhookRow> {
    return this.db.kysely.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async find(id: number): Promise<WebhookRow | null> {
    return (await this.db.kysely.selectFrom('webhooks').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()) ?? null;
  }

  /** Webhooks of one petition (or, with null, the site-wide ones). */
  async list(petitionId: number | null): Promise<WebhookRow[]> {
    let q = this.db.kysely.selectFrom('webhooks').selectAll().where('deleted_at', 'is', null);
    q = petitionId === null ? q.where('petition_id', 'is', null) : q.where('petition_id', '=', petitionId);
    return q.orderBy('id').execute();
  }

  /** Live webhooks that want `event` for this petition: its own and the site-wide ones. */
  async listening(event: string, petitionId: number | null): Promise<WebhookRow[]> {
    const rows = await this.db.kysely
      .selectFrom('webhooks')
      .selectAll()
      .where('deleted_at', 'is', null)
      .where((eb) => (petitionId === null ? eb('petition_id', 'is', null) : eb.or([eb('petition_id', 'is', null), eb('petition_id', '=', petitionId)])))
      .execute();
    return rows.filter((w) => (JSON.parse(w.events) as string[]).includes(event));
  }

  async anyListening(event: string): Promise<boolean> {
    const rows = await this.db.kysely.selectFrom('webhooks').select('events').where('deleted_at', 'is', null).execute();
    return rows.some((w) => (JSON.parse(w.events) as string[]).includes(event));
  }

  async softDelete(id: number, now: Date): Promise<void> {
    await this.db.kysely.updateTable('webhooks').set({ deleted_at: now.toISOString() }).where('id', '=', id).execute();
  }

  /** Logs a delivery and queues its sending, together. */
  async queueDelivery(webhookId: number, event: string, payload: (deliveryId: number) => string, effects: (deliveryId: number) => Effects, now: Date): Promise<number> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('webhook_deliveries')
        .values({ webhook_id: webhookId, event, payload: '{}', status: 'pending', attempts: 0, created_at: now.toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx.updateTable('webhook_deliveries').set({ payload: payload(id) }).where('id', '=', id).execute();
      await this.effects.write(trx, effects(id), now);
      return id;
    });
  }

  async findDelivery(id: number): Promise<DeliveryRow | null> {
    return (await this.db.kysely.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  /** Records an attempt; a delivered event's payload goes (it may hold a signer's details, and is never sent again). */
  async recordAttempt(id: number, outcome: { status: DeliveryRow['status']; responseStatus: number | null; error: string | null }, now: Date): Promise<void> {
    await this.db.kysely
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status: outcome.status,
        response_status: outcome.responseStatus,
        error: outcome.error,
        attempts: eb('attempts', '+', 1),
        last_attempt_at: now.toISOString(),
        ...(outcome.status === 'delivered' ? { payload: '' } : {}),
      }))
      .where('id', '=', id)
      .execute();
  }

  /**
   * Deletes up to `limit` of the oldest deliveries logged before `before`; returns how many went.
   * Ids follow time, so the oldest come first along the primary key, and a log with none that old
   * is found so from its first row (no scan of the table every hour).
   */
  async forgetDeliveriesBefore(before: string, limit: number): Promise<number> {
    const oldest = await this.db.kysely.selectFrom('webhook_deliveries').select('created_at').orderBy('id').limit(1).executeTakeFirst();
    if (!oldest || oldest.created_at >= before) return 0;
    const result = await this.db.kysely
      .deleteFrom('webhook_deliveries')
      .where('id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('created_at', '<', before).orderBy('id').limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async recentDeliveries(webhookId: number, limit: number): Promise<DeliveryRow[]> {
    return this.db.kysely.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('id', 'desc').limit(limit).execute();
  }
}
