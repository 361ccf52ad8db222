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

    let reads = 0;
    const never = new RecentResults<number>(0, () => now);
    await never.get('x', async () => ++reads);
    await never.get('x', async () => ++reads);
    assert.equal(reads, 2);
  });
});
