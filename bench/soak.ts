/**
 * Soak: the site in its own process (SQLite, worker on) takes a steady mix of signing, confirming
 * and reading for BENCH_SOAK_SECONDS (default 60), while its RSS is sampled every 2 seconds.
 * Reports the RSS after warm-up, at the end and at its highest, and the growth in between
 * (target: ≤ 256 MB under load, ≤ 10 % growth), then checks the count is exact.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenSigner } from '../src/lib/tokens.ts';
import { freePort } from '../test/helpers/server.ts';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const BIN = fileURLToPath(new URL('../bin/undersign.js', import.meta.url));
const SECRET = 'bench-secret-key-that-is-at-least-32-characters';

export async function runSoakBench(): Promise<Record<string, string | number>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-soak-'));
  const path = join(dir, 'soak.sqlite');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, NODE_ENV: 'production', DATABASE_URL: `sqlite://${path}`, SECRET_KEY: SECRET, SMTP_URL: 'smtp://127.0.0.1:9', RATE_LIMIT: 'off', LOG_LEVEL: 'fatal', PORT: String(port), BASE_URL: base };
  const cli = (args: string[], input = '') => spawnSync(process.execPath, [BIN, ...args], { env, input, encoding: 'utf8' });
  cli(['migrate']);
  cli(['user', 'create', '--email', 'bench@example.org', '--name', 'Bench', '--admin', '--password-stdin'], 'bench password 123');
  const token = cli(['token', 'create', '--email', 'bench@example.org']).stdout.trim().split('\n').at(-1)!;
  const server = spawn(process.execPath, [BIN, 'serve'], { env, stdio: 'ignore' });
  const rss = () => Number(spawnSync('ps', ['-o', 'rss=', '-p', String(server.pid)], { encoding: 'utf8' }).stdout.trim()) / 1024;
  try {
    for (let i = 0; i < 200 && !(await fetch(`${base}/healthz`).catch(() => null))?.ok; i++) await new Promise((r) => setTimeout(r, 50));
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const slug = ((await (await fetch(`${base}/api/v1/petitions`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'Benchmark petition for soaking', action: 'Measure memory over time.', background: 'Numbers, not guesses.', target: { name: 'The decision-maker' } }) })).json()) as { data: { slug: string } }).data.slug;
    await fetch(`${base}/api/v1/petitions/${slug}/open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const signer = new TokenSigner(SECRET, 'signature-confirmation');
    let n = 0;
    let confirmId = 1;
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rss()), 2000);
    const mix = (rate: number, requests: autocannon.Request[]) => autocannon({ url: base, connections: 10, duration: SECONDS, overallRate: rate, requests });
    const [signs, confirms, pages, json] = await Promise.all([
      mix(300, [{ method: 'POST', path: `/api/v1/petitions/${slug}/signatures`, headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `Signer ${n}`, email: `soak${n++}@example.net`, postcode: 'SW1A 1AA', country: 'GB' }) }) }]),
      // Confirms lag the signatures a little, as people read their email.
      mix(200, [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(Math.min(confirmId++, Math.max(1, n - 50)))}` }) }]),
      mix(400, [{ method: 'GET', path: `/petitions/${slug}` }]),
      mix(400, [{ method: 'GET', path: `/api/v1/petitions/${slug}` }]),
    ]);
    clearInterval(sampler);
    const warm = samples[Math.min(samples.length - 1, Math.floor(samples.length / 6))] ?? 0;
    const end = samples.at(-1) ?? 0;
    const peak = Math.max(...samples);
    const shown = ((await (await fetch(`${base}/api/v1/petitions/${slug}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { signature_count: number } }).data.signature_count;
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
