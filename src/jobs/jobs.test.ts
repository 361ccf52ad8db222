import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import pino from 'pino';
import { describeEachDatabase, openTestDatabase, type TestDatabase } from '../../test/helpers/db.ts';
import { JobsRepository } from './jobs.repository.ts';
import { JobWorker, retryDelayMs, type JobHandler } from './worker.ts';

const log = pino({ level: 'silent' });

describeEachDatabase('jobs outbox and worker', (kind) => {
  let t: TestDatabase;
  let jobs: JobsRepository;
  let now: Date;
  const clock = () => now;

  before(async () => {
    t = await openTestDatabase(kind);
    jobs = new JobsRepository(t.db);
  });
  after(() => t.cleanup());
  beforeEach(async () => {
    now = new Date('2026-11-01T09:00:00.000Z');
    await t.db.kysely.deleteFrom('jobs').execute();
  });

  const worker = (handlers: Record<string, JobHandler>) => new JobWorker({ jobs, handlers, log, clock, concurrency: 10 });

  it('runs a due job once, and its row goes', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'greet', payload: { who: 'world' } }, now);
    const seen: unknown[] = [];
    const w = worker({ greet: async (p) => void seen.push(p) });
    assert.equal(await w.drain(), 1);
    assert.equal(await w.drain(), 0);
    assert.deepEqual(seen, [{ who: 'world' }]);
    assert.deepEqual(await jobs.countByState(), {});
  });

  it('does not run a job before its time', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'later', payload: {}, runAt: new Date(now.getTime() + 60_000) }, now);
    let runs = 0;
    const w = worker({ later: async () => void runs++ });
    assert.equal(await w.drain(), 0);
    now = new Date(now.getTime() + 61_000);
    assert.equal(await w.drain(), 1);
    assert.equal(runs, 1);
  });

  it('runs an urgent job ahead of a backlog of due ones', async () => {
    await jobs.enqueueMany(t.db.kysely, Array.from({ length: 50 }, (_, i) => ({ kind: 'email', payload: { i } })), new Date(now.getTime() - 60_000));
    await jobs.enqueue(t.db.kysely, { kind: 'report', payload: {}, urgent: true }, now);
    const claimed = await jobs.claimDue(now, 60_000, 5);
    assert.deepEqual(claimed.map((j) => j.kind).sort(), ['email', 'email', 'email', 'email', 'report']);
  });

  it('retries a failing job with backoff, then gives up after max_attempts', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'flaky', payload: {}, maxAttempts: 3 }, now);
    let runs = 0;
    const w = worker({
      flaky: async () => {
        runs++;
        throw new Error('SMTP said no');
      },
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      assert.equal(await w.runOnce(), 1, `attempt ${attempt}`);
      assert.equal(await w.runOnce(), 0, 'not again before the backoff');
      now = new Date(now.getTime() + 3_600_000 * 2);
    }
    assert.equal(await w.runOnce(), 0);
    assert.equal(runs, 3);
    const row = await t.db.kysely.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.state, 'dead');
    assert.equal(row.attempts, 3);
    assert.equal(row.last_error, 'SMTP said no');
  });

  it('takes over a job whose worker died (lock expired), but not one still locked', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'k', payload: {} }, now);
    const claimed = await jobs.claimDue(now, 60_000, 10);
    assert.equal(claimed.length, 1);
    assert.equal((await jobs.claimDue(now, 60_000, 10)).length, 0, 'still locked');
    now = new Date(now.getTime() + 61_000);
    const retaken = await jobs.claimDue(now, 60_000, 10);
    assert.equal(retaken.length, 1);
    assert.equal(retaken[0]!.attempts, 2);

    // A dead worker's job is taken back before a backlog of waiting ones.
    now = new Date(now.getTime() + 61_000);
    for (let i = 0; i < 30; i++) await jobs.enqueue(t.db.kysely, { kind: 'k', payload: { i } }, new Date(now.getTime() - 1000));
    const first = await jobs.claimDue(now, 60_000, 10);
    assert.equal(first.length, 10);
    assert.ok(first.some((j) => j.id === retaken[0]!.id), 'the expired job is in the first batch');
    await t.db.kysely.deleteFrom('jobs').execute();
  });

  it('never hands the same job to two concurrent claimers', async () => {
    for (let i = 0; i < 50; i++) await jobs.enqueue(t.db.kysely, { kind: 'k', payload: { i } }, now);
    const batches = await Promise.all(Array.from({ length: 8 }, () => jobs.claimDue(now, 60_000, 10)));
    const ids = batches.flat().map((j) => j.id);
    assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
    assert.equal(ids.length, 50);
  });

  it('writes the outcomes of a round together, each one right (done, failed, given up, put back)', async () => {
    for (let i = 0; i < 30; i++) await jobs.enqueue(t.db.kysely, { kind: i % 3 === 0 ? 'flaky' : 'fine', payload: { i } }, now);
    await jobs.enqueue(t.db.kysely, { kind: 'slices', payload: {} }, now);
    await jobs.enqueue(t.db.kysely, { kind: 'hopeless', payload: {}, maxAttempts: 1 }, now);
    const slices = Object.assign(new Error('more to do'), { retryInMs: 0 });
    const w = new JobWorker({
      jobs,
      log,
      clock,
      concurrency: 40,
      handlers: { fine: async () => {}, flaky: async () => Promise.reject(new Error('smtp down')), slices: async () => Promise.reject(slices), hopeless: async () => Promise.reject(new Error('no')) },
    });
    assert.equal(await w.runOnce(), 32);
    const rows = await t.db.kysely.selectFrom('jobs').select(['kind', 'state', 'attempts', 'last_error', 'finished_at']).execute();
    const byKind = (k: string) => rows.filter((r) => r.kind === k);
    assert.equal(byKind('fine').length, 0, 'a job done leaves no row');
    assert.ok(byKind('flaky').every((r) => r.state === 'pending' && r.last_error === 'smtp down' && r.attempts === 1));
    assert.deepEqual(byKind('slices').map((r) => [r.state, r.attempts]), [['pending', 0]]);
    assert.deepEqual(byKind('hopeless').map((r) => [r.state, r.last_error]), [['dead', 'no']]);
  });

  it('keeps claiming while a slow job runs, never more than its concurrency at once, and stop() waits for the slow one', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'slow', payload: {} }, now);
    for (let i = 0; i < 12; i++) await jobs.enqueue(t.db.kysely, { kind: 'fast', payload: { i } }, new Date(now.getTime() + 1));
    now = new Date(now.getTime() + 10);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let mostAtOnce = 0;
    let fastDone = 0;
    const track = async (work: () => Promise<void>) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        await work();
      } finally {
        running--;
      }
    };
    const w = new JobWorker({
      jobs,
      log,
      clock,
      concurrency: 4,
      pollMs: 5,
      handlers: {
        slow: () => track(() => released),
        fast: () => track(async () => void (await new Promise((r) => setTimeout(r, 2)), fastDone++)),
      },
    });
    w.start();
    for (let i = 0; i < 400 && fastDone < 12; i++) await new Promise((r) => setTimeout(r, 5));
    // In rounds, the round holding the slow job would wait for it: only three fast jobs would have run.
    assert.equal(fastDone, 12, 'every fast job ran while the slow one was still running');
    assert.ok(mostAtOnce <= 4, `at most 4 at once (saw ${mostAtOnce})`);
    const stopped = w.stop();
    let stopReturned = false;
    void stopped.then(() => (stopReturned = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(stopReturned, false, 'stop() waits for the job in progress');
    release();
    await stopped;
    assert.deepEqual(await jobs.countByState(), {});
  });

  it('stop() during a claim waits for the jobs that claim returns, and their outcomes', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'k', payload: {} }, now);
    let letClaimReturn!: () => void;
    const claimMayReturn = new Promise<void>((resolve) => (letClaimReturn = resolve));
    let claimStarted!: () => void;
    const claimUnderWay = new Promise<void>((resolve) => (claimStarted = resolve));
    // The real repository, with a claim that answers only when told to.
    const slowClaims = Object.assign(Object.create(jobs) as JobsRepository, {
      claimDue: async (...args: Parameters<JobsRepository['claimDue']>) => {
        const claimed = await jobs.claimDue(...args);
        claimStarted();
        await claimMayReturn;
        return claimed;
      },
    });
    let ran = 0;
    const w = new JobWorker({ jobs: slowClaims, log, clock, handlers: { k: async () => void ran++ } });
    // The worker's timers do not keep a process alive (unref): this test must, while it waits.
    const keepAlive = setInterval(() => {}, 1000);
    w.start();
    await claimUnderWay;
    const stopped = w.stop();
    letClaimReturn();
    await stopped;
    clearInterval(keepAlive);
    assert.equal(ran, 1, 'the claimed job ran before stop() returned');
    assert.deepEqual(await jobs.countByState(), {});
  });

  it('runs a tenth of its jobs at once while the process is busy with visitors, and all again after', async () => {
    for (let i = 0; i < 40; i++) await jobs.enqueue(t.db.kysely, { kind: 'mail', payload: { i } }, now);
    let busy = true;
    let running = 0;
    let mostAtOnce = 0;
    let done = 0;
    const w = new JobWorker({
      jobs,
      log,
      clock,
      concurrency: 20,
      pollMs: 5,
      busy: () => busy,
      handlers: {
        mail: async () => {
          running++;
          mostAtOnce = Math.max(mostAtOnce, running);
          await new Promise((r) => setTimeout(r, 10));
          running--;
          done++;
        },
      },
    });
    w.start();
    for (let i = 0; i < 400 && done < 10; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(done >= 10, 'jobs still run while the site is busy');
    assert.equal(mostAtOnce, 2, 'a tenth of 20 at once while busy');
    busy = false;
    mostAtOnce = 0;
    w.nudge();
    for (let i = 0; i < 400 && done < 40; i++) await new Promise((r) => setTimeout(r, 5));
    await w.stop();
    assert.equal(done, 40);
    assert.ok(mostAtOnce > 2, `more at once when the site is quiet (saw ${mostAtOnce})`);
    assert.deepEqual(await jobs.countByState(), {});
  });

  it('does not start a second copy of its own job that runs past its lock', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'long', payload: {} }, now);
    let starts = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const w = new JobWorker({ jobs, log, clock, concurrency: 10, pollMs: 5, lockMs: 1000, handlers: { long: async () => void (starts++, await released) } });
    w.start();
    for (let i = 0; i < 200 && starts === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(starts, 1);
    // The lock runs out while the job is still going; the worker polls on.
    now = new Date(now.getTime() + 2000);
    for (let i = 0; i < 10; i++) {
      w.nudge();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(starts, 1, 'the job was not started again by its own worker');
    // Another worker may take it over (the first one might have died).
    assert.equal((await jobs.claimDue(now, 1000, 10)).length, 1);
    release();
    await w.stop();
  });

  it('a job for an unknown kind fails instead of vanishing', async () => {
    await jobs.enqueue(t.db.kysely, { kind: 'nobody-handles-this', payload: {} }, now);
    await worker({}).runOnce();
    const row = await t.db.kysely.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.state, 'pending');
    assert.match(row.last_error ?? '', /no handler/);
  });
});

it('retry delays grow and are capped at about an hour', () => {
  assert.ok(retryDelayMs(1) >= 24_000 && retryDelayMs(1) <= 36_000);
  assert.ok(retryDelayMs(3) >= 96_000 && retryDelayMs(3) <= 144_000);
  assert.ok(retryDelayMs(30) <= 3_600_000 * 1.2);
});
