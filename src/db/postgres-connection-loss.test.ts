import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, it } from 'node:test';
import { openTestDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../test/helpers/db.ts';

describe('losing a PostgreSQL connection', { skip: POSTGRES_URL ? false : POSTGRES_SKIP_REASON }, () => {
  it('fails the transaction that held it, not the process, and the next queries use a new one', async () => {
    const t = await openTestDatabase('postgres');
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      const failed = await t.db.kysely
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          // The server drops the connection (a restart, a failover, an administrator) while the
          // transaction is between statements: nothing is waiting on the connection to hear it.
          await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
          await new Promise((r) => setTimeout(r, 300));
          await sql`select 1`.execute(trx);
        })
        .then(
          () => null,
          (err: Error) => err,
        );
      assert.ok(failed, 'the transaction fails');
      for (let i = 0; i < 3; i++) assert.equal((await sql<{ n: number }>`select 1 as n`.execute(t.db.kysely)).rows[0]!.n, 1);
    } finally {
      await admin.end();
      await t.cleanup();
    }
  });
});
