/**
 * Hand-in benchmark: builds the signers' CSV export and the hand-in PDF for a petition of
 * BENCH_HANDIN_ROWS confirmed signatures (default 100,000) on a fresh SQLite database, and reports
 * time, output size and peak memory. No network: everything is in this process.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createTestApp } from '../test/helpers/app.ts';
import { createPetition, seedSignatures } from '../test/helpers/factories.ts';

const ROWS = Number(process.env.BENCH_HANDIN_ROWS ?? 100_000);

/** Runs `work`, sampling resident memory, and returns its duration and peak RSS. */
export async function measure(work: () => Promise<number>): Promise<{ ms: number; bytes: number; peakRssMb: number; baseRssMb: number }> {
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const bytes = await work();
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, bytes, peakRssMb: peak / 2 ** 20, baseRssMb: baseRss / 2 ** 20 };
}

function counter(): { sink: Writable; total: () => number } {
  let total = 0;
  return {
    sink: new Writable({
      write(chunk: Buffer, _encoding, done) {
        total += chunk.length;
        done();
      },
    }),
    total: () => total,
  };
}

export async function runHandinBench(): Promise<Record<string, string | number>[]> {
  const t = await createTestApp('sqlite');
  try {
    const { petition, owner } = await createPetition(t.ctx);
    const seedStarted = performance.now();
    await seedSignatures(t.ctx, petition.id, ROWS);
    const seedMs = performance.now() - seedStarted;

    const csv = await measure(async () => {
      const { csv: stream } = await t.ctx.services.handin.signaturesCsv(owner, petition.slug);
      const out = counter();
      await pipeline(stream, out.sink);
      return out.total();
    });
    const pdf = await measure(async () => {
      const { pdf: doc } = await t.ctx.services.handin.handinPack(owner, petition.slug);
      const out = counter();
      await pipeline(doc, out.sink);
      return out.total();
    });
    const row = (name: string, m: typeof csv) => ({
      scenario: name,
      rows: ROWS,
      seconds: (m.ms / 1000).toFixed(2),
      'rows/s': Math.round(ROWS / (m.ms / 1000)),
      'output MB': (m.bytes / 2 ** 20).toFixed(1),
      'RSS before MB': m.baseRssMb.toFixed(0),
      'peak RSS MB': m.peakRssMb.toFixed(0),
    });
    console.error(`(seeded ${ROWS.toLocaleString('en-GB')} signatures in ${(seedMs / 1000).toFixed(1)} s)`);
    return [row('signatures.csv export', csv), row('hand-in PDF', pdf)];
  } finally {
    await t.close();
  }
}
