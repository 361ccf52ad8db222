import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentResults } from './recent-results.ts';

describe('results kept for a moment', () => {
  it('answers callers within the interval from one read, those asking while it runs included, and reads again after', async () => {
    let now = 0;
    let reads = 0;
    let release: (n: number) => void = () => {};
    const kept = new RecentResults<number>(1000, () => now);
    const read = () => {
      reads++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = kept.get('home', read);
    const meanwhile = kept.get('home', read);
    release(7);
    assert.deepEqual(await Promise.all([first, meanwhile]), [7, 7]);
    now = 999;
    assert.equal(await kept.get('home', read), 7);
    assert.equal(reads, 1);
    now = 1000;
    const again = kept.get('home', read);
    release(8);
    assert.equal(await again, 8);
    assert.equal(reads, 2);
    kept.clear();
    const cleared = kept.get('home', read);
    release(9);
    assert.equal(await cleared, 9);
    assert.equal(reads, 3);
  });

  it('keeps no failed read, nothing with an interval of 0, and at most its number of keys', async () => {
    let now = 0;
    const kept = new RecentResults<string>(1000, () => now, 2);
    await assert.rejects(kept.get('a', () => Promise.reject(new Error('database gone'))));
    assert.equal(await kept.get('a', async () => 'back'), 'back', 'a failure is read again at once');

    await kept.get('b', async () => 'b1');
    await kept.get('c', async () => 'c1'); // a third key: the oldest ("a") goes
    assert.equal(await kept.get('a', async () => 'a2'), 'a2');
    assert.equal(await kept.get('c', async () => 'c2'), 'c1');

    // The key read longest ago goes, not the one kept first.
    now = 2000;
    const busy = new RecentResults<string>(1000, () => now, 2);
    await busy.get('busy', async () => 'busy1');
    await busy.get('other', async () => 'other1');
    now = 3000;
    await busy.get('busy', async () => 'busy2'); // read again: to the back of the line
    await busy.get('new', async () => 'new1'); // "other" goes
    assert.equal(await busy.get('busy', async () => 'busy3'), 'busy2');
    assert.equal(await busy.get('other', async () => 'other2'), 'other2');

    let reads = 0;
    const never = new RecentResults<number>(0, () => now);
    await never.get('x', async () => ++reads);
    await never.get('x', async () => ++reads);
    assert.equal(reads, 2);
  });

  it('reads only the keys not kept a moment ago, together, and keeps each for the next caller', async () => {
    let now = 0;
    const reads: string[][] = [];
    const kept = new RecentResults<string>(1000, () => now);
    const read = async (missing: string[]) => {
      reads.push(missing);
      return missing.map((key) => `${key}@${now}`);
    };
    assert.deepEqual(await kept.getMany(['a', 'b', 'a'], read), ['a@0', 'b@0', 'a@0']);
    assert.deepEqual(reads, [['a', 'b']], 'one read, each key once');
    assert.equal(await kept.get('b', async () => 'never'), 'b@0', 'kept for a single caller too');
    now = 500;
    assert.deepEqual(await kept.getMany(['c', 'b', 'a'], read), ['c@500', 'b@0', 'a@0']);
    assert.deepEqual(reads.at(-1), ['c']);
    now = 1200;
    assert.deepEqual(await kept.getMany(['a', 'c'], read), ['a@1200', 'c@500']);
    assert.deepEqual(reads.at(-1), ['a'], 'too old: read again');
    assert.equal(reads.length, 3);
    assert.deepEqual(await kept.getMany(['a', 'c'], read), ['a@1200', 'c@500']);
    assert.equal(reads.length, 3, 'everything kept: no read at all');

    await assert.rejects(kept.getMany(['d', 'a'], () => Promise.reject(new Error('database gone'))), /database gone/);
    assert.deepEqual(await kept.getMany(['d'], read), ['d@1200'], 'a failed read is not kept');

    const never = new RecentResults<string>(0, () => now);
    await never.getMany(['x'], read);
    await never.getMany(['x'], read);
    assert.deepEqual(reads.slice(-2), [['x'], ['x']]);
  });
});
