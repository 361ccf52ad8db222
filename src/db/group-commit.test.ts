import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit, GroupCommitFull } from './group-commit.ts';

/** A batch runner that records each batch and lets the test decide when it commits. */
function recorder() {
  const batches: number[][] = [];
  const commits: (() => void)[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const run = async (items: number[]) => {
    batches.push(items);
    mostAtOnce = Math.max(mostAtOnce, ++running);
    await new Promise<void>((resolve) => commits.push(resolve));
    running--;
    if (items.includes(-1)) throw new Error('a bad item');
    return items.map((i) => i * 10);
  };
  const commitAll = async () => {
    // Commits whatever is waiting, again and again, until nothing new starts.
    for (let idle = 0; idle < 5; ) {
      await new Promise((r) => setImmediate(r));
      if (commits.length === 0) idle++;
      else commits.splice(0).forEach((c) => c());
    }
  };
  return { run, batches, commitAll, mostAtOnce: () => mostAtOnce };
}

describe('group commit', () => {
  it('puts items submitted together in one batch, and answers each with its own result', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run);
    const answers = Promise.all([1, 2, 3].map((i) => commit.submit(i)));
    await r.commitAll();
    assert.deepEqual(await answers, [10, 20, 30]);
    assert.deepEqual(r.batches, [[1, 2, 3]]);
  });

  it('gathers items that arrive during a commit into the next batch, one batch at a time by default', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run);
    const first = commit.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3].map((i) => commit.submit(i));
    await r.commitAll();
    assert.deepEqual(await Promise.all([first, ...later]), [10, 20, 30]);
    assert.deepEqual(r.batches, [[1], [2, 3]]);
    assert.equal(r.mostAtOnce(), 1);
  });

  it('commits several batches at once when allowed to', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run, { concurrency: 2 });
    const first = commit.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const second = commit.submit(2);
    await r.commitAll();
    assert.deepEqual(await Promise.all([first, second]), [10, 20]);
    assert.deepEqual(r.batches, [[1], [2]]);
    assert.equal(r.mostAtOnce(), 2, 'the second batch started while the first was committing');
  });

  it('refuses items past the waiting limit, without touching those already waiting', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run, { maxWaiting: 2 });
    const accepted = [commit.submit(1), commit.submit(2)];
    await assert.rejects(commit.submit(3), GroupCommitFull);
    await r.commitAll();
    assert.deepEqual(await Promise.all(accepted), [10, 20]);
  });

  it('counts items being committed against the waiting limit, and frees their places after the commit', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run, { maxWaiting: 2, concurrency: 3 });
    const accepted = [commit.submit(1), commit.submit(2)];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(r.batches, [[1, 2]], 'both are being committed, none waits for a batch');
    await assert.rejects(commit.submit(3), GroupCommitFull, 'a free batch slot does not make room: two items are still unanswered');
    await r.commitAll();
    assert.deepEqual(await Promise.all(accepted), [10, 20]);
    const later = commit.submit(4);
    await r.commitAll();
    assert.equal(await later, 40);
  });

  it('retries a failed batch item by item, so one bad item fails alone', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run);
    const answers = [1, -1, 2].map((i) => commit.submit(i).then((v) => v, (err: Error) => err.message));
    await r.commitAll();
    assert.deepEqual(await Promise.all(answers), [10, 'a bad item', 20]);
    assert.deepEqual(r.batches, [[1, -1, 2], [1], [-1], [2]]);
    assert.deepEqual(commit.stats(), { batches: 2, items: 2, waiting: 0 }, 'only committed transactions and their items are counted');
  });

  it('counts batches and items committed, and items waiting, for the site’s metrics', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run);
    const first = commit.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3].map((i) => commit.submit(i));
    assert.deepEqual(commit.stats(), { batches: 0, items: 0, waiting: 3 }, 'one in its transaction, two waiting for the next');
    await r.commitAll();
    await Promise.all([first, ...later]);
    assert.deepEqual(commit.stats(), { batches: 2, items: 3, waiting: 0 });
  });

  it('says when everything submitted so far is committed, for shutting down', async () => {
    const r = recorder();
    const commit = new GroupCommit(r.run);
    await commit.settled();
    const answers = Promise.all([1, 2].map((i) => commit.submit(i)));
    let settled = false;
    const waiting = commit.settled().then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'not while a batch is being committed');
    await r.commitAll();
    await waiting;
    assert.deepEqual(await answers, [10, 20]);
  });
});
