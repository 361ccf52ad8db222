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

/**
 * Runs `work`, sampling resident memory, and returns its duration and peak RSS; with `probe` (a
 * query on the web thread's connection, as every page makes), also the slowest answer it got
 * meanwhile, asked every 20 ms: how long the rest of the site waits while an export runs.
 */
export async function measure(work: () => Promise<number>, probe?: () => Promise<unknown>): Promise<{ ms: number; bytes: number; peakRssMb: number; baseRssMb: number; slowestProbeMs: number }> {
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  let working = true;
  let slowestProbeMs = 0;
  const probing = (async () => {
    while (probe && working) {
      // From when the question is due (a timer 20 ms on) to its answer: a blocked event loop counts too.
      const due = performance.now() + 20;
      await new Promise((r) => setTimeout(r, 20));
      await probe();
      slowestProbeMs = Math.max(slowestProbeMs, performance.now() - due);
    }
  })();
  const started = performance.now();
  const bytes = await work();
  const ms = performance.now() - started;
  working = false;
  await probing;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, bytes, peakRssMb: peak / 2 ** 20, baseRssMb: baseRss / 2 ** 20, slowestProbeMs };
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

    const probe = () => t.ctx.db.kysely.selectFrom('petitions').select('id').where('id', '=', petition.id).execute();
    const csv = await measure(async () => {
      const { csv: stream } = await t.ctx.services.handin.signaturesCsv(owner, petition.slug);
      const out = counter();
      await pipeline(stream, out.sink);
      return out.total();
    }, probe);
    const pdf = await measure(async () => {
      const { pdf: doc } = await t.ctx.services.handin.handinPack(owner, petition.slug);
      const out = counter();
      await pipeline(doc, out.sink);
      return out.total();
    }, probe);
    const row = (name: string, m: typeof csv) => ({
      scenario: name,
      rows: ROWS,
      seconds: (m.ms / 1000).toFixed(2),
      'rows/s': Math.round(ROWS / (m.ms / 1000)),
      'output MB': (m.bytes / 2 ** 20).toFixed(1),
      'RSS before MB': m.baseRssMb.toFixed(0),
      'peak RSS MB': m.peakRssMb.toFixed(0),
      'slowest other query meanwhile ms': Math.round(m.slowestProbeMs),
    });
    console.error(`(seeded ${ROWS.toLocaleString('en-GB')} signatures in ${(seedMs / 1000).toFixed(1)} s)`);
    return [row('signatures.csv export', csv), row('hand-in PDF', pdf)];
  } finally {
    await t.close();
  }
}
