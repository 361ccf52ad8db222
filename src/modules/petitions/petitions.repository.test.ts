import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDatabase, openTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts';
import { UsersRepository } from '../users/users.repository.ts';
import { PetitionsRepository } from './petitions.repository.ts';

const NOW = '2026-10-20T10:00:00.000Z';

describeEachDatabase('PetitionsRepository', (kind) => {
  let t: TestDatabase;
  let petitions: PetitionsRepository;
  let ownerId: number;
  let n = 0;

  const insert = (overrides: Record<string, unknown> = {}) =>
    petitions.insert({
      slug: `petition-${++n}`,
      title: `Petition ${n}`,
      action: 'Act',
      background: 'Because',
      target_name: 'Commissioner',
      state: 'draft',
      owner_id: ownerId,
      created_at: NOW,
      updated_at: NOW,
      ...overrides,
    });

  before(async () => {
    t = await openTestDatabase(kind);
    petitions = new PetitionsRepository(t.db);
    ownerId = (await new UsersRepository(t.db).insert({ email: 'o@example.org', name: 'O', passwordHash: 'x', role: 'campaigner', createdAt: NOW })).id;
  });
  after(() => t.cleanup());

  it('round-trips a petition with times as ISO strings and a zero count', async () => {
    const row = await insert({ deadline: '2026-11-15T23:59:59.999Z', goal: 1500, target_role: 'Commissioner' });
    const found = await petitions.findBySlug(row.slug);
    assert.ok(found);
    assert.equal(found.deadline, '2026-11-15T23:59:59.999Z');
    assert.equal(found.created_at, NOW);
    assert.equal(found.goal, 1500);
    assert.equal(found.signature_count, 0);
    assert.equal(typeof found.id, 'number');
  });

  it('refuses a duplicate slug', async () => {
    await insert({ slug: 'same-slug' });
    await assert.rejects(insert({ slug: 'same-slug' }));
  });

  it('sums the counter shards into signature_count', async () => {
    const row = await insert({ state: 'open' });
    await t.db.kysely
      .insertInto('petition_counters')
      .values([
        { petition_id: row.id, shard: 0, confirmed_count: 1000 },
        { petition_id: row.id, shard: 3, confirmed_count: 804 },
      ])
      .execute();
    assert.equal((await petitions.findById(row.id))!.signature_count, 1804);
  });

  it('changes state only from the expected state, so one of two racing changes wins', async () => {
    const row = await insert();
    const results = await Promise.all([
      petitions.changeState(row.id, 'draft', 'open', { opened_at: NOW }),
      petitions.changeState(row.id, 'draft', 'open', { opened_at: NOW }),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal((await petitions.findById(row.id))!.state, 'open');
  });

  it('lists open petitions before their deadline, newest first', async () => {
    const a = await insert({ state: 'open', opened_at: '2026-10-01T00:00:00.000Z' });
    const b = await insert({ state: 'open', opened_at: '2026-10-02T00:00:00.000Z' });
    await insert({ state: 'open', opened_at: '2026-10-03T00:00:00.000Z', deadline: '2026-10-10T00:00:00.000Z' });
    await insert({ state: 'draft' });
    const slugs = (await petitions.listOpen(NOW, 100)).map((p) => p.slug);
    assert.ok(slugs.indexOf(b.slug) < slugs.indexOf(a.slug));
    assert.ok(slugs.every((s) => s !== undefined));
    const listed = await petitions.listOpen(NOW, 100);
    assert.ok(listed.every((p) => p.state === 'open' && (!p.deadline || p.deadline > NOW)));
  });
});
