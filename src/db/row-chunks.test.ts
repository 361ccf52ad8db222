import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rowChunks } from './dialect.ts';

describe('rows split for multi-row statements', () => {
  it('keeps every row once, in order, on both databases', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => i);
    for (const kind of ['sqlite', 'postgres'] as const) {
      for (const n of [0, 1, 7, 200, 201, 333, 1000]) assert.deepEqual(rowChunks(kind, rows.slice(0, n), 200).flat(), rows.slice(0, n), `${kind}, ${n} rows`);
    }
  });

  it('uses a few statement sizes on SQLite (powers of two up to 128), and the fewest statements on PostgreSQL', () => {
    const sizes = new Set<number>();
    for (let n = 1; n <= 500; n++) for (const chunk of rowChunks('sqlite', Array.from({ length: n }), 200)) sizes.add(chunk.length);
    assert.deepEqual([...sizes].sort((a, b) => a - b), [1, 2, 4, 8, 16, 32, 64, 128]);
    assert.deepEqual(rowChunks('postgres', Array.from({ length: 450 }), 200).map((c) => c.length), [200, 200, 50]);
    assert.deepEqual(rowChunks('sqlite', Array.from({ length: 200 }), 200).map((c) => c.length), [128, 64, 8]);
  });
});
