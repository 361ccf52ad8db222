import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase, type TestDatabase } from '../../test/helpers/db.ts';

describe('waiting for another connection’s write lock (SQLite)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase('sqlite');
  });
  after(() => t.cleanup());

  it('keeps the event loop free while a write waits, then writes once the lock is released', async () => {
    const path = t.location.kind === 'sqlite' ? t.location.path : '';
    const other = new BetterSqlite3(path);
    try {
      other.exec('begin immediate');
      const write = t.db.kysely.insertInto('consent_wordings').values({ wording: 'written while locked' }).execute();
      // Timers run on time while the write waits: nothing sleeps the thread.
      const started = performance.now();
      const late: number[] = [];
      for (let i = 0; i < 10; i++) {
        const due = performance.now() + 10;
        await new Promise((r) => setTimeout(r, 10));
        late.push(performance.now() - due);
      }
      assert.ok(Math.max(...late) < 40, `timers ran up to ${Math.round(Math.max(...late))} ms late`);
      assert.ok(performance.now() - started >= 100);
      other.exec('commit');
      await write;
      const row = await t.db.kysely.selectFrom('consent_wordings').select('id').where('wording', '=', 'written while locked').executeTakeFirst();
      assert.ok(row, 'the write went through after the lock was released');
    } finally {
      other.close();
    }
  });
});
