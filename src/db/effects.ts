import type { Kysely, Transaction } from 'kysely';
import type { JobsRepository, NewJob } from '../jobs/jobs.repository.ts';
import type { AuditEntry, AuditRepository } from '../modules/audit/audit.repository.ts';
import type { Database } from './schema.ts';

/** What a change brings with it: audit lines and queued jobs (emails…), committed together with it. */
export interface Effects {
  audit?: AuditEntry[];
  jobs?: NewJob[];
}

/** Writes {@link Effects} inside the transaction of the change they belong to. */
export class EffectsWriter {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly audit: AuditRepository,
  ) {}

  async write(trx: Kysely<Database> | Transaction<Database>, effects: Effects | undefined, now: Date): Promise<void> {
    for (const entry of effects?.audit ?? []) await this.audit.record(trx, entry, now);
    for (const job of effects?.jobs ?? []) await this.jobs.enqueue(trx, job, now);
  }

  /**
   * Runs a single-row update or delete and, only if it changed exactly one row, its effects, all
   * in one transaction. Returns whether the row was there to change.
   */
  async changeOne(
    db: Kysely<Database>,
    change: (trx: Transaction<Database>) => Promise<{ numUpdatedRows?: bigint; numDeletedRows?: bigint }>,
    effects: Effects,
    now: Date,
  ): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const result = await change(trx);
      if (Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0) !== 1) return false;
      await this.write(trx, effects, now);
      return true;
    });
  }
}
