/**
 * Exports through the built server, as staff download them: a petition of BENCH_EXPORT_ROWS
 * confirmed signatures (default 200,000; 1,000,000 for the memory budget), on SQLite, then the
 * hand-in pack and the signers' CSV alone and two at once (the server started afresh for each,
 * with MAX_EXPORTS_AT_ONCE=2 so that pairs are let through). Prints each download's time and the
 * server's resident memory before and at its peak: what MAX_EXPORTS_AT_ONCE's default must keep
 * under the 256 MB budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fill } from './scale.ts';
import { freshDatabase, openPetitionsThenStop, prepareBenchSite, rssMb, type Row } from './site.ts';

const ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 200_000);
const SCENARIOS = [['pdf'], ['csv'], ['pdf', 'pdf'], ['pdf', 'csv'], ['csv', 'csv']] as const;

export async function runExportsBench(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-exports-'));
  const database = await freshDatabase('sqlite', dir);
  try {
    const site = await prepareBenchSite(database.url);
    site.env.MAX_EXPORTS_AT_ONCE = '2';
    const [{ slug, id: petitionId }] = (await openPetitionsThenStop(site, database, ['A petition with very many signatures'])) as [{ slug: string; id: number }];
    await fill('sqlite', database.url, petitionId, ROWS);

    const rows: Row[] = [];
    for (const kinds of SCENARIOS) {
      const server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
      await site.waitUntilUp();
      // Settled after start-up, as a process that has served for a while.
      await new Promise((r) => setTimeout(r, 1000));
      const before = rssMb(server.pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid))), 100);
      const started = performance.now();
      const downloads = await Promise.all(
        kinds.map(async (kind) => {
          const url = kind === 'pdf' ? `${site.base}/petitions/${slug}/handin.pdf` : `${site.base}/api/v1/petitions/${slug}/signatures.csv`;
          const res = await fetch(url, { headers: { authorization: `Bearer ${site.token}` } });
          if (res.status !== 200) throw new Error(`${kind}: ${res.status} ${await res.text()}`);
          let bytes = 0;
          for await (const chunk of res.body!) bytes += (chunk as Uint8Array).length;
          return bytes;
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      peak = Math.max(peak, rssMb(server.pid));
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rows.push({
        scenario: kinds.map((k) => (k === 'pdf' ? 'hand-in pack' : 'signers CSV')).join(' + '),
        signatures: ROWS,
        seconds: seconds.toFixed(1),
        'output MB': (downloads.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(1),
        'RSS before MB': Math.round(before),
        'peak RSS MB': Math.round(peak),
        'within 256 MB': peak <= 256 ? 'yes' : 'no',
      });
    }
    return rows;
  } finally {
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
