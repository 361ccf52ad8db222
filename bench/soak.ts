/**
 * Soak: the site in its own process (SQLite, worker on) takes a steady mix of signing, confirming
 * and reading for BENCH_SOAK_SECONDS (default 60), while its RSS is sampled every 2 seconds.
 * Reports the RSS after warm-up, at the end and at its highest, and the growth in between
 * (target: ≤ 256 MB under load, ≤ 10 % growth), then checks the count is exact.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenSigner } from '../src/lib/tokens.ts';
import { prepareBenchSite, rssMb, SECRET, signerBody, signingRequest } from './site.ts';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);

export async function runSoakBench(): Promise<Record<string, string | number>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-soak-'));
  const path = join(dir, 'soak.sqlite');
  const site = await prepareBenchSite(`sqlite://${path}`, 'fatal');
  const { base } = site;
  const server = site.serve({ worker: true });
  try {
    await site.waitUntilUp();
    const slug = await site.openPetition('Benchmark petition for soaking');
    const signer = new TokenSigner(SECRET, 'signature-confirmation');
    let n = 0;
    let confirmId = 1;
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMb(server.pid)), 2000);
    const mix = (rate: number, requests: autocannon.Request[]) => autocannon({ url: base, connections: 10, duration: SECONDS, overallRate: rate, requests });
    const [signs, confirms, pages, json] = await Promise.all([
      mix(300, [signingRequest(slug, signerBody('soak'), (i) => (n = i + 1))]),
      // Confirms lag the signatures a little, as people read their email.
      mix(200, [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(Math.min(confirmId++, Math.max(1, n - 50)))}` }) }]),
      mix(400, [{ method: 'GET', path: `/petitions/${slug}` }]),
      mix(400, [{ method: 'GET', path: `/api/v1/petitions/${slug}` }]),
    ]);
    clearInterval(sampler);
    const warm = samples[Math.min(samples.length - 1, Math.floor(samples.length / 6))] ?? 0;
    const end = samples.at(-1) ?? 0;
    const peak = Math.max(...samples);
    const shown = await site.liveCount(slug);
    const db = new BetterSqlite3(path, { readonly: true });
    const confirmed = (db.prepare("select count(*) as n from signatures where status = 'confirmed'").get() as { n: number }).n;
    db.close();
    const errors = [signs, confirms, pages, json].reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0);
    console.error(`soak: ${SECONDS} s; RSS after warm-up ${Math.round(warm)} MB, end ${Math.round(end)} MB, peak ${Math.round(peak)} MB (growth ${(((end - warm) / warm) * 100).toFixed(1)} %); displayed ${shown} = confirmed ${confirmed}: ${shown === confirmed ? 'exact' : 'MISMATCH'}`);
    if (shown !== confirmed) process.exitCode = 1;
    return [
      {
        scenario: `soak ${SECONDS} s: sign 300/s, confirm 200/s, page 400/s, JSON 400/s [sqlite]`,
        'signs/s': Math.round(signs.requests.average),
        'confirms/s': Math.round(confirms.requests.average),
        'reads/s': Math.round(pages.requests.average + json.requests.average),
        'errors + non-2xx': errors,
        'RSS warm MB': Math.round(warm),
        'RSS end MB': Math.round(end),
        'RSS peak MB': Math.round(peak),
        'growth %': Number((((end - warm) / warm) * 100).toFixed(1)),
      },
    ];
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
