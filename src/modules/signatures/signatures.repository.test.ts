import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { PetitionsRepository } from '../petitions/petitions.repository.ts';
import { describeEachDatabase, openTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts';
import { newSignature, repositoriesFor, userRow } from '../../../test/helpers/repositories.ts';
import { changeCounts, type SignaturesRepository, type NewSignature } from './signatures.repository.ts';
import { counterShards } from '../../db/dialect.ts';

const NOW = new Date('2026-10-20T10:00:00.000Z');
/** The confirmation rule of a site that does not gather supporters first. */
const rule = { gathersSupporters: false };
const job = 'signature.send_confirmation';

describeEachDatabase('SignaturesRepository', (kind) => {
  let t: TestDatabase;
  let signatures: SignaturesRepository;
  let petitions: PetitionsRepository;
  let petitionId: number;

  const signature = (overrides: Partial<NewSignature> = {}) => newSignature(petitionId, overrides);

  const jobCount = async () =>
    Number((await t.db.kysely.selectFrom('jobs').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  before(async () => {
    t = await openTestDatabase(kind);
    const repos = repositoriesFor(t.db);
    signatures = repos.signatures;
    petitions = repos.petitions;
    const owner = await repos.users.insert(userRow('owner@example.org'));
    const petition = await petitions.insert(
      {
      slug: 'keep-the-unit',
      title: 'Keep the unit',
      action: 'Keep it',
      background: 'Because',
      target_name: 'Commissioner',
      state: 'open',
      owner_id: owner.id,
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
      opened_at: NOW.toISOString(),
      },
      () => ({}),
      NOW,
    );
    petitionId = petition.id;
  });
  after(() => t.cleanup());

  it('stores a pending signature and its confirmation job in one go', async () => {
    const jobsBefore = await jobCount();
    const input = signature({ publicName: true });
    const result = await signatures.recordSignature(input, NOW, NOW.toISOString(), job);
    assert.deepEqual(result, { queued: true });
    const row = await t.db.kysely.selectFrom('signatures').selectAll().where('email_key', '=', input.emailKey).executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.equal(row.email, input.email);
    assert.equal(row.public_name, 1);
    assert.equal(row.contact_opt_in, 0);
    assert.equal(row.created_at, NOW.toISOString());
    assert.equal(await jobCount(), jobsBefore + 1);
    const queued = await t.db.kysely.selectFrom('jobs').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(queued.payload), { signatureId: row.id });
  });

  it('keeps each consent wording once, however many signers gave it, even signing at the same moment', async () => {
    const both = { public_name: 'Show my name', contact_opt_in: 'Tell me more' };
    const before = await t.db.kysely.selectFrom('consent_wordings').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await Promise.all(Array.from({ length: 30 }, (_, i) => signatures.recordSignature(signature({ consent: i % 2 ? both : { public_name: 'Show my name', contact_opt_in: null } }), NOW, NOW.toISOString(), job)));
    await signatures.recordSignature(signature({ consent: both }), NOW, NOW.toISOString(), job);
    const after = await t.db.kysely.selectFrom('consent_wordings').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n) - Number(before.n), 2, 'two wordings, stored once each');
    const rows = await t.db.kysely
      .selectFrom('signatures')
      .innerJoin('consent_wordings', 'consent_wordings.id', 'signatures.consent_wording_id')
      .select('consent_wordings.wording')
      .where('signatures.petition_id', '=', petitionId)
      .where('consent_wordings.wording', 'like', '%Tell me more%')
      .execute();
    assert.equal(rows.length, 16);
    assert.deepEqual(JSON.parse(rows[0]!.wording), both);
  });

  it('keeps one signature per address, re-queueing the confirmation only when due', async () => {
    const input = signature();
    await signatures.recordSignature(input, NOW, NOW.toISOString(), job);
    const jobsBefore = await jobCount();
    // Within the resend interval: nothing new.
    const soon = await signatures.recordSignature({ ...input, name: 'Someone else' }, NOW, new Date(NOW.getTime() - 60_000).toISOString(), job);
    assert.deepEqual(soon, { queued: false });
    assert.equal(await jobCount(), jobsBefore);
    // Later: one more confirmation, still one signature row, the original name kept.
    const later = new Date(NOW.getTime() + 120_000);
    const again = await signatures.recordSignature(input, later, new Date(later.getTime() - 60_000).toISOString(), job);
    assert.deepEqual(again, { queued: true });
    assert.equal(await jobCount(), jobsBefore + 1);
    const rows = await t.db.kysely.selectFrom('signatures').selectAll().where('email_key', '=', input.emailKey).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.name, input.name);
  });

  it('confirms once, counts once, and never re-sends for a confirmed address', async () => {
    const input = signature();
    await signatures.recordSignature(input, NOW, NOW.toISOString(), job);
    const { id } = await t.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', input.emailKey).executeTakeFirstOrThrow();
    const countBefore = Number((await petitions.findById(petitionId))!.signature_count);
    assert.deepEqual(await signatures.confirm(id, NOW, rule), { outcome: 'confirmed', petitionId });
    assert.deepEqual(await signatures.confirm(id, NOW, rule), { outcome: 'already_confirmed', petitionId });
    assert.equal(Number((await petitions.findById(petitionId))!.signature_count), countBefore + 1);
    const jobsBefore = await jobCount();
    const later = new Date(NOW.getTime() + 3_600_000);
    assert.deepEqual(await signatures.recordSignature(input, later, later.toISOString(), job), { queued: false });
    assert.equal(await jobCount(), jobsBefore);
  });

  it('removes a signature at the signer’s request, taking a confirmed one off the count', async () => {
    const input = signature();
    await signatures.recordSignature(input, NOW, NOW.toISOString(), job);
    const { id } = await t.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', input.emailKey).executeTakeFirstOrThrow();
    await signatures.confirm(id, NOW, rule);
    const before = Number((await petitions.findById(petitionId))!.signature_count);
    assert.deepEqual(await signatures.remove(id, NOW), { petitionId, wasConfirmed: true, email: input.email, ipHash: input.ipHash }, 'with what is left to forget of the signer elsewhere');
    assert.equal(await signatures.remove(id, NOW), null, 'removing twice is harmless');
    assert.equal(Number((await petitions.findById(petitionId))!.signature_count), before - 1);
    assert.equal(Number((await petitions.findById(petitionId))!.signature_count), await signatures.countConfirmedRows(petitionId));
  });

  it('does not confirm into a closed petition, nor an unknown signature', async () => {
    const input = signature();
    await signatures.recordSignature(input, NOW, NOW.toISOString(), job);
    const { id } = await t.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', input.emailKey).executeTakeFirstOrThrow();
    await t.db.kysely.updateTable('petitions').set({ deadline: NOW.toISOString() }).where('id', '=', petitionId).execute();
    try {
      assert.equal((await signatures.confirm(id, NOW, rule)).outcome, 'petition_closed', 'past its deadline');
    } finally {
      await t.db.kysely.updateTable('petitions').set({ deadline: null }).where('id', '=', petitionId).execute();
    }
    assert.equal((await signatures.findById(id))!.status, 'pending');
    assert.equal((await signatures.confirm(999_999, NOW, rule)).outcome, 'not_found');
  });

  it('commits signatures that arrive together as one group, answering each only after its commit', async () => {
    const before = await jobCount();
    const rowsBefore = Number((await t.db.kysely.selectFrom('signatures').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const inputs = Array.from({ length: 300 }, () => signature());
    // The same person twice in one burst, and one signature for a petition that does not exist.
    const twice = signature();
    const broken = signature({ petitionId: 999_999 });
    const results = await Promise.allSettled([...inputs, twice, twice, broken].map((s) => signatures.recordSignature(s, NOW, NOW.toISOString(), job)));
    const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value.queued : 'rejected'));
    assert.equal(outcomes.filter((o) => o === true).length, 301, 'every new signature queued its confirmation');
    assert.deepEqual(outcomes.slice(300), [true, false, 'rejected'], 'a repeat in the same burst queues nothing; a bad one fails alone');
    const rowsAfter = Number((await t.db.kysely.selectFrom('signatures').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(rowsAfter - rowsBefore, 301);
    assert.equal((await jobCount()) - before, 301, 'one confirmation job each');
  });

  it('confirms a burst as one group: each link counts once, repeats and unknown links answered as such', async () => {
    const inputs = Array.from({ length: 120 }, () => signature());
    await Promise.all(inputs.map((s) => signatures.recordSignature(s, NOW, NOW.toISOString(), job)));
    const ids = (await t.db.kysely.selectFrom('signatures').select('id').where('email_key', 'in', inputs.map((i) => i.emailKey)).execute()).map((r) => r.id);
    const countBefore = (await petitions.findById(petitionId))!.signature_count ?? 0;
    const burst = [...ids, ...ids.slice(0, 10), 999_999_999];
    const results = await Promise.all(burst.map((id) => signatures.confirm(id, NOW, rule)));
    assert.equal(results.filter((r) => r.outcome === 'confirmed').length, 120);
    assert.equal(results.filter((r) => r.outcome === 'already_confirmed').length, 10);
    assert.deepEqual(results.at(-1), { outcome: 'not_found', petitionId: null });
    assert.equal(Number((await petitions.findById(petitionId))!.signature_count) - Number(countBefore), 120);
    assert.equal(await signatures.countConfirmedRows(petitionId), Number((await petitions.findById(petitionId))!.signature_count));
  });

  it('keeps the count exact when hundreds of signatures are recorded and confirmed concurrently', async () => {
    const confirmedBefore = await signatures.countConfirmedRows(petitionId);
    const inputs = Array.from({ length: 300 }, () => signature());
    await Promise.all(inputs.map((s) => signatures.recordSignature(s, NOW, NOW.toISOString(), job)));
    const ids = (
      await t.db.kysely.selectFrom('signatures').select('id').where('status', '=', 'pending').where('petition_id', '=', petitionId).execute()
    ).map((r) => r.id);
    // Every link followed twice at once: each signature must still count exactly once.
    const outcomes = await Promise.all([...ids, ...ids].map((id) => signatures.confirm(id, NOW, rule)));
    assert.ok(outcomes.filter((o) => o.outcome === 'confirmed').length >= 300);
    const petition = await petitions.findById(petitionId);
    assert.equal(Number(petition!.signature_count), await signatures.countConfirmedRows(petitionId));
    assert.equal(await signatures.countConfirmedRows(petitionId), confirmedBefore + outcomes.filter((o) => o.outcome === 'confirmed').length);
  });
});

describeEachDatabase('retention: erasing signers’ details', (kind) => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase(kind);
  });
  after(() => t.cleanup());

  it('erases names, emails and full postcodes of long-closed petitions, keeping counts and districts', async () => {
    const repos = repositoriesFor(t.db);
    const owner = await repos.users.insert(userRow('owner@example.org'));
    const petition = (closedAt: string | null, slug: string) =>
      repos.petitions.insert(
        // Open while signed; closed afterwards (below).
        { slug, title: slug, action: 'a', background: 'b', target_name: 't', state: 'open', owner_id: owner.id, created_at: NOW.toISOString(), updated_at: NOW.toISOString(), closed_at: null },
        () => ({}),
        NOW,
      );
    const old = await petition('2025-01-01T00:00:00.000Z', 'old');
    const recent = await petition('2026-10-01T00:00:00.000Z', 'recent');
    const add = async (petitionId: number, email: string) => {
      await repos.signatures.recordSignature(
        { petitionId, name: 'Named Person', email, emailKey: email, postcode: 'SW1A 1AA', country: 'GB', publicName: true, contactOptIn: true, consent: { public_name: 'x', contact_opt_in: 'y' }, ip: null, ipHash: null, language: 'en' },
        NOW,
        NOW.toISOString(),
        job,
      );
      const { id } = await t.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', email).where('petition_id', '=', petitionId).executeTakeFirstOrThrow();
      await repos.signatures.confirm(id, NOW, rule);
    };
    await add(old.id, 'a@example.net');
    await add(old.id, 'b@example.net');
    await add(recent.id, 'c@example.net');
    for (const [p, closedAt] of [[old, '2025-01-01T00:00:00.000Z'], [recent, '2026-10-01T00:00:00.000Z']] as const) {
      await t.db.kysely.updateTable('petitions').set({ state: 'closed', closed_at: closedAt }).where('id', '=', p.id).execute();
    }

    assert.equal(await repos.signatures.eraseExpired('2026-01-01T00:00:00.000Z', NOW, 1), 2, 'in batches of one, both');
    assert.equal(await repos.signatures.eraseExpired('2026-01-01T00:00:00.000Z', NOW), 0, 'nothing left to erase');
    const marked = await t.db.kysely.selectFrom('petitions').select(['id', 'signers_erased_at']).where('id', 'in', [old.id, recent.id]).orderBy('id').execute();
    assert.deepEqual(marked.map((p) => p.signers_erased_at), [NOW.toISOString(), null], 'the old petition is marked done and not read again');
    const rows = await t.db.kysely.selectFrom('signatures').selectAll().where('petition_id', '=', old.id).execute();
    for (const row of rows) {
      assert.equal(row.name, '');
      assert.equal(row.email, '');
      assert.equal(row.email_domain, 'example.net', 'the domain outlives the address, for fraud review');
      assert.equal(row.postcode, 'SW1A', 'the district stays for per-area figures');
      assert.equal(row.contact_opt_in, 0);
      assert.equal(row.consent_wording_id, null);
      assert.equal(row.status, 'confirmed');
    }
    assert.equal(Number((await repos.petitions.findById(old.id))!.signature_count), 2, 'the count stays');
    assert.equal(await repos.signatures.countConfirmedRows(old.id), 2);
    const kept = await t.db.kysely.selectFrom('signatures').select('email').where('petition_id', '=', recent.id).executeTakeFirstOrThrow();
    assert.equal(kept.email, 'c@example.net', 'a recently closed petition keeps its signers for now');
  });

});

describeEachDatabase('the sweep of IP addresses past the fraud-review period', (kind) => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase(kind);
  });
  after(() => t.cleanup());

  it('drops them petition by petition from where the last sweep ended, in as many calls as asked, never reading a petition done again', async () => {
    const repos = repositoriesFor(t.db);
    const owner = await repos.users.insert(userRow('ip-owner@example.org'));
    const day = (d: number, minute = 0) => new Date(Date.UTC(2026, 9, d, 9, minute)).toISOString();
    const petition = async (slug: string) =>
      (await repos.petitions.insert({ slug, title: slug, action: 'a', background: 'b', target_name: 't', state: 'open', owner_id: owner.id, created_at: day(1), updated_at: day(1) }, () => ({}), new Date(day(1)))).id;
    const busy = await petition('busy-ips');
    const quiet = await petition('quiet-ips');
    const sign = async (petitionId: number, at: string) => {
      const s = newSignature(petitionId);
      await repos.signatures.recordSignature(s, new Date(at), at, job);
      return s.emailKey;
    };
    for (let i = 0; i < 5; i++) await sign(busy, day(2, i));
    await sign(quiet, day(2));
    const late = await sign(busy, day(20));
    const withIp = async (petitionId: number) =>
      Number((await t.db.kysely.selectFrom('signatures').select((eb) => eb.fn.countAll().as('n')).where('petition_id', '=', petitionId).where('ip', 'is not', null).executeTakeFirstOrThrow()).n);
    const marks = async () => (await t.db.kysely.selectFrom('petitions').select('ips_dropped_before').where('id', 'in', [busy, quiet]).orderBy('id').execute()).map((p) => p.ips_dropped_before);

    // Three at a time: the first call stops inside the busy petition and marks how far it got.
    const before10 = day(10);
    assert.equal(await repos.signatures.dropIpAddresses(before10, 3), 3);
    assert.equal(await withIp(busy), 3);
    assert.deepEqual(await marks(), [day(2, 2), null]);
    assert.equal(await repos.signatures.dropIpAddresses(before10, 3), 3, 'the rest of the busy one, then the quiet one');
    assert.equal(await repos.signatures.dropIpAddresses(before10, 3), 0);
    assert.equal(await withIp(busy), 1, 'the signature given after `before` keeps its address');
    assert.equal(await withIp(quiet), 0);
    assert.deepEqual(await marks(), [day(10, -1), day(10, -1)], 'a minute short of `before`');
    const hashes = await t.db.kysely.selectFrom('signatures').select('ip_hash').where('petition_id', '=', busy).execute();
    assert.ok(hashes.every((r) => r.ip_hash === 'hash-of-203.0.113.9'), 'the keyed hashes stay');

    // A signature whose time was read just before the last sweep's `before` but committed after it is found by the next sweep.
    const straggler = await sign(quiet, '2026-10-10T08:59:30.000Z');
    assert.equal(await repos.signatures.dropIpAddresses(day(11), 10), 1);
    assert.equal((await t.db.kysely.selectFrom('signatures').select('ip').where('email_key', '=', straggler).executeTakeFirstOrThrow()).ip, null);

    // A petition closed before its mark is not read again; the late signature goes when its time comes.
    await t.db.kysely.updateTable('petitions').set({ state: 'closed', closed_at: day(5) }).where('id', '=', quiet).execute();
    assert.equal(await repos.signatures.dropIpAddresses(day(25), 10), 1);
    assert.equal((await t.db.kysely.selectFrom('signatures').select('ip').where('email_key', '=', late).executeTakeFirstOrThrow()).ip, null);
    assert.deepEqual(await marks(), [day(25, -1), day(11, -1)], 'the closed petition was left as it was');
  });
});

describeEachDatabase('folding a finished petition’s counter shards', (kind) => {
  let t: TestDatabase;
  let signatures: SignaturesRepository;
  let petitions: PetitionsRepository;
  before(async () => {
    t = await openTestDatabase(kind);
    ({ signatures, petitions } = repositoriesFor(t.db));
  });
  after(() => t.cleanup());

  const shards = counterShards(kind);
  const counterRows = async (petitionId: number) =>
    (await t.db.kysely.selectFrom('petition_counters').select(['shard', 'confirmed_count']).where('petition_id', '=', petitionId).orderBy('shard').execute()).map((r) => [r.shard, Number(r.confirmed_count)]);
  const count = async (petitionId: number) => Number((await petitions.signatureCounts([petitionId])).get(petitionId) ?? 0);
  /** Moves a petition's count by one, as confirming or removing a signature does (a random shard). */
  const change = (petitionId: number, delta: 1 | -1) =>
    t.db.kysely.transaction().execute((trx) => changeCounts(trx, shards, [{ petition_id: petitionId, confirmed_at: NOW.toISOString(), country: 'GB', postcode: null, area_set_id: null }], delta));

  it('keeps one row with the sum for petitions no longer signed, the open ones sharded, and every count exact under changes racing the fold', async () => {
    const owner = await repositoriesFor(t.db).users.insert(userRow(`fold-${kind}@example.org`));
    const make = async (slug: string, state: 'open' | 'closed') =>
      (await petitions.insert({ slug, title: slug, action: 'Act', background: 'Because', target_name: 'Council', state, owner_id: owner.id, created_at: NOW.toISOString(), updated_at: NOW.toISOString(), opened_at: NOW.toISOString() }, () => ({}), NOW)).id;
    const [closed, open] = [await make('fold-closed', 'closed'), await make('fold-open', 'open')];
    for (let i = 0; i < 200; i++) for (const id of [closed, open]) await change(id, 1);
    for (let i = 0; i < 20; i++) await change(closed, -1);
    assert.equal(await count(closed), 180);
    assert.equal(await count(open), 200);

    if (shards === 1) {
      assert.equal(await signatures.foldFinishedCounters(500), 0, 'one shard already: nothing to fold');
      assert.deepEqual(await counterRows(closed), [[0, 180]]);
      return;
    }
    assert.ok((await counterRows(closed)).length > 1);
    assert.equal(await signatures.foldFinishedCounters(500), 1, 'the closed petition only');
    assert.deepEqual(await counterRows(closed), [[0, 180]]);
    assert.ok((await counterRows(open)).length > 1, 'an open petition keeps its shards');
    assert.equal(await count(open), 200);
    assert.equal(await signatures.foldFinishedCounters(500), 0, 'nothing left to fold');

    // Removals and invalidations still change a closed petition's count: 300 changes on random
    // shards, at once with repeated folds, leave the sum exact.
    const changes = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? -1 : 1) as 1 | -1);
    let folded = 0;
    await Promise.all([
      ...changes.map((delta) => change(closed, delta)),
      (async () => {
        for (let i = 0; i < 30; i++) {
          folded += await signatures.foldFinishedCounters(500);
          await new Promise((r) => setImmediate(r));
        }
      })(),
    ]);
    assert.ok(folded > 0, 'the folds ran among the changes');
    assert.equal(await count(closed), 180 + changes.reduce((a, b) => a + b, 0));
    await signatures.foldFinishedCounters(500);
    assert.deepEqual(await counterRows(closed), [[0, 180 + changes.reduce((a, b) => a + b, 0)]]);
  });
});
