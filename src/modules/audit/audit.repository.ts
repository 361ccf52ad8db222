import type { Kysely, Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';

/** One line of the audit log. */
export interface AuditEntry {
  actorId: number | null;
  petitionId: number | null;
  action: string;
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  id: number;
  actorId: number | null;
  actorName: string | null;
  petitionId: number | null;
  petitionSlug: string | null;
  action: string;
  details: Record<string, unknown>;
  createdAt: string;
}

/** The audit log: written in the same transaction as the change it records. */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  async record(executor: Kysely<Database> | Transaction<Database>, entry: AuditEntry, now: Date): Promise<void> {
    await executor
      .insertInto('audit_log')
      .values({
        actor_id: entry.actorId,
        petition_id: entry.petitionId,
        action: entry.action,
        details: JSON.stringify(entry.details ?? {}),
        created_at: now.toISOString(),
      })
      .execute();
  }

  /** Records an action that changes nothing else (a download, say). */
  async append(entry: AuditEntry, now: Date): Promise<void> {
    await this.record(this.db.kysely, entry, now);
  }

  /**
   * The newest line of one action recorded since `since` (ISO), or null. Along the created_at
   * index, so an action never taken reads only the period's lines, not the whole log.
   */
  async latest(action: string, since: string): Promise<AuditRecord | null> {
    const row = await this.selectRecords()
      .where('audit_log.action', '=', action)
      .where('audit_log.created_at', '>=', since)
      .orderBy('audit_log.created_at', 'desc')
      .orderBy('audit_log.id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Newest first, optionally for one petition. */
  async list(options: { petitionId?: number; limit: number; offset?: number }): Promise<AuditRecord[]> {
    let query = this.selectRecords()
      .orderBy('audit_log.id', 'desc')
      .limit(options.limit)
      .offset(options.offset ?? 0);
    if (options.petitionId !== undefined) query = query.where('audit_log.petition_id', '=', options.petitionId);
    return (await query.execute()).map(toRecord);
  }

  private selectRecords() {
    return this.db.kysely
      .selectFrom('audit_log')
      .leftJoin('users', 'users.id', 'audit_log.actor_id')
      .leftJoin('petitions', 'petitions.id', 'audit_log.petition_id')
      .select([
        'audit_log.id',
        'audit_log.actor_id',
        'users.name as actor_name',
        'audit_log.petition_id',
        'petitions.slug as petition_slug',
        'audit_log.action',
        'audit_log.details',
        'audit_log.created_at',
      ]);
  }
}

function toRecord(r: { id: number; actor_id: number | null; actor_name: string | null; petition_id: number | null; petition_slug: string | null; action: string; details: string; created_at: string }): AuditRecord {
  return {
    id: r.id,
    actorId: r.actor_id,
    actorName: r.actor_name,
    petitionId: r.petition_id,
    petitionSlug: r.petition_slug,
    action: r.action,
    details: JSON.parse(r.details) as Record<string, unknown>,
    createdAt: r.created_at,
  };
}
