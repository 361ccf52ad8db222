import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDatabase, openTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts';
import { repositoriesFor, userRow } from '../../../test/helpers/repositories.ts';
import type { PetitionsRepository, PetitionListQuery } from './petitions.repository.ts';

const NOW = new Date('2026-10-20T10:00:00.000Z');
const NOW_ISO = NOW.toISOString();

describeEachDatabase('PetitionsRepository', (kind) => {
  let t: TestDatabase;
  let petitions: PetitionsRepository;
  let ownerId: number;
  let n = 0;

  const insert = (overrides: Record<string, unknown> = {}) =>
    petitions.insert(
      {
        slug: `petition-${++n}`,
        title: `Petition ${n}`,
        action: 'Act',
        background: 'Because',
        target_name: 'Commissioner',
        state: 'draft',
        owner_id: ownerId,
        created_at: NOW_ISO,
        updated_at: NOW_ISO,
        ...overrides,
      },
      (id) => ({ audit: [{ actorId: ownerId, petitionId: id, action: 'petition.created' }] }),
      NOW,
    );
  const count = (id: number, shard: number, confirmed: number) =>
    t.db.kysely.insertInto('petition_counters').values({ petition_id: id, shard, confirmed_count: confirmed }).execute();
  const query = (q: Partial<PetitionListQuery>): PetitionListQuery => ({ filter: 'open', sort: 'newest', words: [], limit: 100, offset: 0, ...q });

  before(async () => {
    t = await openTestDatabase(kind);
    const repos = repositoriesFor(t.db);
    petitions = repos.petitions;
    ownerId = (await repos.users.insert(userRow('o@example.org'))).id;
  });
  after(() => t.cleanup());

  it('round-trips a petition with times as ISO strings, a zero count, its owner and an audit line', async () => {
    const row = await insert({ deadline: '2026-11-15T23:59:59.999Z', goal: 1500, target_role: 'Commissioner' });
    const found = await petitions.findBySlug(row.slug);
    assert.ok(found);
    assert.equal(found.deadline, '2026-11-15T23:59:59.999Z');
    assert.equal(found.created_at, NOW_ISO);
    assert.equal(found.goal, 1500);
    assert.equal(Number(found.signature_count), 0);
    assert.equal(typeof found.id, 'number');
    assert.equal(await petitions.memberRole(row.id, ownerId), 'owner');
    const audit = await t.db.kysely.selectFrom('audit_log').selectAll().where('petition_id', '=', row.id).execute();
    assert.deepEqual(audit.map((a) => a.action), ['petition.created']);
  });

  it('refuses a duplicate slug, leaving no half-made petition behind', async () => {
    await insert({ slug: 'same-slug' });
    await assert.rejects(insert({ slug: 'same-slug' }));
    const rows = await t.db.kysely.selectFrom('petitions').select('id').where('slug', '=', 'same-slug').execute();
    assert.equal(rows.length, 1);
  });

  it('sums the counter shards into signature_count', async () => {
    const row = await insert({ state: 'open' });
    await count(row.id, 0, 1000);
    await count(row.id, 3, 804);
    assert.equal(Number((await petitions.findById(row.id))!.signature_count), 1804);
  });

  it('changes state only from the expected state, so one of two racing changes wins, and writes effects only then', async () => {
    const row = await insert();
    const effects = { audit: [{ actorId: ownerId, petitionId: row.id, action: 'petition.opened' }], jobs: [{ kind: 'x', payload: {} }] };
    const results = await Promise.all([
      petitions.changeState(row.id, 'draft', 'open', { opened_at: NOW_ISO }, effects, NOW),
      petitions.changeState(row.id, 'draft', 'open', { opened_at: NOW_ISO }, effects, NOW),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal((await petitions.findById(row.id))!.state, 'open');
    const opened = await t.db.kysely.selectFrom('audit_log').select('id').where('petition_id', '=', row.id).where('action', '=', 'petition.opened').execute();
    assert.equal(opened.length, 1);
  });

  it('closes expired petitions once, at their deadline, however many sweepers run', async () => {
    const due = await insert({ state: 'open', opened_at: NOW_ISO, deadline: '2026-10-19T23:59:59.999Z' });
    const later = await insert({ state: 'open', opened_at: NOW_ISO, deadline: '2026-12-01T00:00:00.000Z' });
    const effects = (p: { id: number }) => ({ audit: [{ actorId: null, petitionId: p.id, action: 'petition.closed' }] });
    const sweeps = await Promise.all([petitions.closeExpired(NOW, effects), petitions.closeExpired(NOW, effects), petitions.closeExpired(NOW, effects)]);
    const closedIds = sweeps.flat().map((p) => p.id);
    assert.equal(closedIds.filter((id) => id === due.id).length, 1);
    assert.ok(!closedIds.includes(later.id));
    const row = await petitions.findById(due.id);
    assert.equal(row!.state, 'closed');
    assert.equal(row!.closed_at, '2026-10-19T23:59:59.999Z');
    const audit = await t.db.kysely.selectFrom('audit_log').select('id').where('petition_id', '=', due.id).where('action', '=', 'petition.closed').execute();
    assert.equal(audit.length, 1);
  });

  it('lists, filters, searches, sorts and pages public petitions, never hidden ones', async () => {
    const word = `zebra${kind}`;
    const a = await insert({ state: 'open', opened_at: '2026-10-01T00:00:00.000Z', title: `Save the ${word} crossing`, deadline: '2026-12-01T00:00:00.000Z' });
    const b = await insert({ state: 'open', opened_at: '2026-10-02T00:00:00.000Z', action: `Paint the ${word.toUpperCase()} stripes`, deadline: '2026-11-01T00:00:00.000Z' });
    const c = await insert({ state: 'open', opened_at: '2026-10-03T00:00:00.000Z', title: `${word} library` });
    await insert({ state: 'open', opened_at: '2026-10-04T00:00:00.000Z', title: `${word} hidden`, hidden_at: NOW_ISO, hidden_reason: 'legal' });
    const expired = await insert({ state: 'open', opened_at: '2026-09-01T00:00:00.000Z', title: `${word} expired`, deadline: '2026-10-01T00:00:00.000Z' });
    const rejected = await insert({ state: 'rejected', title: `${word} rejected`, rejection_reason: 'duplicate' });
    await insert({ state: 'draft', title: `${word} draft` });
    await count(a.id, 0, 5);
    await count(b.id, 0, 50);
    await count(c.id, 0, 1);

    const slugs = async (q: Partial<PetitionListQuery>) => (await petitions.list(query({ words: [word], ...q }), NOW_ISO)).rows.map((r) => r.slug);
    assert.deepEqual(await slugs({ sort: 'newest' }), [c.slug, b.slug, a.slug]);
    assert.deepEqual(await slugs({ sort: 'popular' }), [b.slug, a.slug, c.slug]);
    assert.deepEqual(await slugs({ sort: 'closing' }), [b.slug, a.slug, c.slug]);
    assert.deepEqual(await slugs({ filter: 'closed' }), [expired.slug]);
    assert.deepEqual(await slugs({ filter: 'rejected' }), [rejected.slug]);
    assert.deepEqual(await slugs({ words: [word, 'crossing'] }), [a.slug], 'every word must match');
    assert.deepEqual(await slugs({ words: [word, 'stripes'] }), [b.slug], 'the action is searched too, ignoring case');
    const paged = await petitions.list(query({ words: [word], limit: 2, offset: 2 }), NOW_ISO);
    assert.equal(paged.total, 3);
    assert.deepEqual(paged.rows.map((r) => r.slug), [a.slug]);
  });

  it('queues pending petitions oldest first, once they have enough supporters', async () => {
    const older = await insert({ state: 'pending', submitted_at: '2026-10-10T00:00:00.000Z' });
    const newer = await insert({ state: 'pending', submitted_at: '2026-10-11T00:00:00.000Z' });
    await count(newer.id, 0, 5);
    const all = (await petitions.listModerationQueue(0, 100)).map((r) => r.id);
    assert.ok(all.indexOf(older.id) < all.indexOf(newer.id));
    const supported = (await petitions.listModerationQueue(5, 100)).map((r) => r.id);
    assert.ok(supported.includes(newer.id));
    assert.ok(!supported.includes(older.id));
  });
});
