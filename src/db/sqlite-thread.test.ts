import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../../test/helpers/db.ts';
import { newSignature, repositoriesFor, userRow } from '../../test/helpers/repositories.ts';
import type { NewSignature } from '../modules/signatures/signatures.repository.ts';
import { signaturesForExport } from '../modules/handin/handin.repository.ts';
import { closeDatabase, migrateToLatest, openDatabase } from './database.ts';
import { SqliteThread, SqliteThreadError } from './sqlite-thread.ts';

const NOW = new Date('2026-12-02T10:00:00.000Z');

describe('the SQLite writer thread', () => {
  let t: TestDatabase;
  let petitionId: number;
  const signature = (overrides: Partial<NewSignature> = {}) => newSignature(petitionId, { postcode: null, country: 'FR', ...overrides });

  before(async () => {
    t = await openTestDatabase('sqlite');
    const repos = repositoriesFor(t.db);
    const owner = await repos.users.insert(userRow('owner@example.org'));
    const stamp = NOW.toISOString();
    petitionId = (
      await repos.petitions.insert(
        { slug: 'writer', title: 'Writer', action: 'a', background: 'b', target_name: 't', state: 'open', owner_id: owner.id, created_at: stamp, updated_at: stamp, opened_at: stamp },
        () => ({}),
        NOW,
      )
    ).id;
  });
  after(() => t.cleanup());

  it('stops a thread left idle and starts another for the next task, which gets its answer', async () => {
    const reader = new SqliteThread((t.location as { path: string }).path, { idleMs: 30 });
    try {
      const count = () => reader.run<{ signatures: number; confirmed: number }>('fraud.count', { petitionId, criteria: {} });
      const first = await count();
      assert.equal(reader.isRunning, true);
      for (let i = 0; i < 100 && reader.isRunning; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(reader.isRunning, false, 'stopped after being idle');
      // Sent as the stopped thread exits: answered by the next one, not failed with the old one's exit.
      assert.deepEqual(await count(), first);
      assert.equal(reader.isRunning, true);
    } finally {
      await reader.close();
    }
  });

  it('streams a long query chunk by chunk from a connection of its own, stays up while a stream waits, and closes a stream left early', async () => {
    const signatures = repositoriesFor(t.db).signatures;
    const inputs = Array.from({ length: 25 }, () => signature());
    await Promise.all(inputs.map((s) => signatures.recordSignature(s, NOW, NOW.toISOString(), 'signature.send_confirmation')));
    const ids = await t.db.kysely.selectFrom('signatures').select('id').where('email_key', 'in', inputs.map((s) => s.emailKey)).execute();
    for (const { id } of ids) await signatures.confirm(id, NOW, { gathersSupporters: false });
    const expected = (await signaturesForExport(t.db, petitionId).execute()).map((r) => r.id);
    assert.ok(expected.length >= 25);

    const reader = new SqliteThread((t.location as { path: string }).path, { idleMs: 20 });
    try {
      // Read in chunks of 10, pausing past the idle time in the middle: the thread must not stop under an open stream.
      const streamed: number[] = [];
      for await (const row of reader.stream<{ id: number }>('handin.signatures', { petitionId }, 10)) {
        streamed.push(row.id);
        if (streamed.length === 12) await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(streamed, expected);
      // Left after five rows (a download cancelled): the stream is closed, and the idle thread then stops.
      let read = 0;
      for await (const _row of reader.stream('handin.signatures', { petitionId }, 10)) if (++read === 5) break;
      for (let i = 0; i < 100 && reader.isRunning; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(reader.isRunning, false);
    } finally {
      await reader.close();
    }
  });

  it('runs on a database file only: an in-memory database has no second connection to share it', async () => {
    assert.ok(t.db.writer, 'a file database has a writer thread');
    const memory = openDatabase({ kind: 'sqlite', path: ':memory:' });
    try {
      assert.equal(memory.writer, null);
    } finally {
      await closeDatabase(memory);
    }
  });

  it('answers each batch after its commit, visible at once to the web thread’s connection', async () => {
    const signatures = repositoriesFor(t.db).signatures;
    const input = signature();
    assert.deepEqual(await signatures.recordSignature(input, NOW, NOW.toISOString(), 'signature.send_confirmation'), { queued: true });
    const row = await t.db.kysely.selectFrom('signatures').select(['id', 'status']).where('email_key', '=', input.emailKey).executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.deepEqual(await signatures.confirm(row.id, NOW, { gathersSupporters: false }), { outcome: 'confirmed', petitionId });
  });

  it('passes the thread’s errors back with SQLite’s code, failing only the item at fault', async () => {
    const signatures = repositoriesFor(t.db).signatures;
    const results = await Promise.allSettled([signatures.recordSignature(signature(), NOW, NOW.toISOString(), 'signature.send_confirmation'), signatures.recordSignature(signature({ petitionId: 999_999 }), NOW, NOW.toISOString(), 'signature.send_confirmation')]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    const err = (results[1] as PromiseRejectedResult).reason as SqliteThreadError;
    assert.ok(err instanceof SqliteThreadError, String(err));
    assert.equal(err.code, 'SQLITE_CONSTRAINT_FOREIGNKEY');
  });

  it('lets transactions on the web thread read, then write, while the thread commits (no SQLITE_BUSY_SNAPSHOT)', async () => {
    const signatures = repositoriesFor(t.db).signatures;
    const signing = Promise.all(Array.from({ length: 400 }, () => signatures.recordSignature(signature(), NOW, NOW.toISOString(), 'signature.send_confirmation')));
    // Each reads a row, lets the writer thread commit, then writes: with a deferred BEGIN the
    // write would fail, its snapshot being older than the thread's commit.
    const updates = Array.from({ length: 20 }, (_, i) =>
      t.db.kysely.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('petitions').select('title').where('id', '=', petitionId).executeTakeFirstOrThrow();
        await new Promise((r) => setTimeout(r, 1));
        await trx.updateTable('petitions').set({ title: `${row.title.split(' #')[0]} #${i}` }).where('id', '=', petitionId).execute();
      }),
    );
    const outcomes = await Promise.allSettled([signing, ...updates]);
    const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
    assert.deepEqual(failures, []);
  });

  it('keeps the writer’s statement journals in memory, and no other connection’s', async () => {
    // A signing batch's statement journal spilled to a new temporary file every batch (~80 writes).
    const tempStore = async (db: ReturnType<typeof openDatabase>) => Number(((await sql<{ temp_store: number }>`pragma temp_store`.execute(db.kysely)).rows[0]!).temp_store);
    const writerLike = openDatabase(t.location, { writerThread: false, journalsInMemory: true });
    const other = openDatabase(t.location, { writerThread: false });
    try {
      assert.equal(await tempStore(writerLike), 2, 'memory');
      assert.equal(await tempStore(other), 0, 'the default: files, for a sort or grouping of a whole petition');
    } finally {
      await closeDatabase(writerLike);
      await closeDatabase(other);
    }
  });

  it('gives a connection the page cache it is asked for (the reader thread’s: 4 MB, not 16)', async () => {
    // A connection's sorts hold as much as its page cache before they spill: an export's sort of a
    // million signatures took 16 MB more of the process's memory budget with the default.
    const cacheSize = async (db: ReturnType<typeof openDatabase>) => Number(((await sql<{ cache_size: number }>`pragma cache_size`.execute(db.kysely)).rows[0]!).cache_size);
    const readerLike = openDatabase(t.location, { writerThread: false, cacheKb: 4096 });
    const other = openDatabase(t.location, { writerThread: false });
    try {
      assert.equal(await cacheSize(readerLike), -4096, '4 MB (negative: KiB)');
      assert.equal(await cacheSize(other), -16000, 'better-sqlite3’s default, 16 MB');
    } finally {
      await closeDatabase(readerLike);
      await closeDatabase(other);
    }
  });

  it('finishes the batches it was given before it closes', async () => {
    const db = openDatabase(t.location);
    await migrateToLatest(db);
    const signatures = repositoriesFor(db).signatures;
    const inputs = Array.from({ length: 50 }, () => signature());
    const pending = Promise.all(inputs.map((s) => signatures.recordSignature(s, NOW, NOW.toISOString(), 'signature.send_confirmation')));
    // Let the batch reach the thread, then close while it commits.
    await new Promise((r) => setImmediate(r));
    await closeDatabase(db);
    assert.equal((await pending).length, 50);
    const stored = await t.db.kysely.selectFrom('signatures').select('id').where('email_key', 'in', inputs.map((s) => s.emailKey)).execute();
    assert.equal(stored.length, 50);
  });
});
