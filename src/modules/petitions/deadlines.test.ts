import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import pino from 'pino';
import { createTestApp, testConfig, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition } from '../../../test/helpers/factories.ts';
import { createContext, type AppContext } from '../../context.ts';
import { openDatabase } from '../../db/database.ts';

describeEachDatabase('petitions close themselves at their deadline', (kind) => {
  let t: TestApp;
  let second: AppContext;

  before(async () => {
    t = await createTestApp(kind, { config: { deadlineSweepMs: 100 } });
    // A second "process": its own connection(s) to the same database, and its own worker.
    second = createContext(testConfig({ database: t.database.location, deadlineSweepMs: 100 }), {
      db: openDatabase(t.database.location),
      log: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await second.close();
    await t.close();
  });

  it('closes within moments with no traffic, once, even with two workers sweeping', async () => {
    const { petition } = await createPetition(t.ctx, { input: { deadline: new Date(Date.now() + 1200).toISOString() } });
    const { petition: later } = await createPetition(t.ctx, { input: { deadline: new Date(Date.now() + 3_600_000).toISOString() } });
    t.ctx.worker.start();
    second.worker.start();
    const stored = () => t.ctx.db.kysely.selectFrom('petitions').select(['state', 'closed_at', 'deadline']).where('id', '=', petition.id).executeTakeFirstOrThrow();
    const giveUp = Date.now() + 10_000;
    while ((await stored()).state !== 'closed') {
      assert.ok(Date.now() < giveUp, 'closed within the time allowed');
      await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all([t.ctx.worker.stop(), second.worker.stop()]);
    const row = await stored();
    assert.equal(row.closed_at, row.deadline, 'recorded as closed at its deadline');
    const entries = await t.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'actor_id', 'details'])
      .where('petition_id', '=', petition.id)
      .where('action', '=', 'petition.closed')
      .execute();
    assert.equal(entries.length, 1, 'closed exactly once');
    assert.equal(entries[0]!.actor_id, null);
    assert.deepEqual(JSON.parse(entries[0]!.details), { by: 'deadline' });
    const untouched = await t.ctx.db.kysely.selectFrom('petitions').select('state').where('id', '=', later.id).executeTakeFirstOrThrow();
    assert.equal(untouched.state, 'open');

    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.match(page.body, /It closed on/);
  });
});
