/**
 * Sustained signing: BENCH_SUSTAINED_SIGNERS signers (default 50; each signs again as soon as it
 * is answered) sign without pause for BENCH_SUSTAINED_SECONDS (default 60, the issue's
 * "sustained 60 s"), on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. Prints the rate
 * and p99 of each 10-second window (a rate that holds, not a burst the first seconds allow), then
 * checks that every acknowledged signature is a stored row and none is stored twice.
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, freshDatabase, prepareBenchSite, rssMb, signerBody, signingRequest, stealPercent, type Row } from './site.ts';

const SECONDS = Number(process.env.BENCH_SUSTAINED_SECONDS ?? 60);
const SIGNERS = Number(process.env.BENCH_SUSTAINED_SIGNERS ?? 50);
const WINDOW_SECONDS = 10;

/** The p99 of a list of latencies in ms. */
function p99(latencies: number[]): number {
  if (latencies.length === 0) return 0;
  const sorted = [...latencies].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!);
}

async function sustainOn(kind: 'sqlite' | 'postgres'): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-sustained-'));
  const database = await freshDatabase(kind, dir);
  const site = await prepareBenchSite(database.url);
  const server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await site.waitUntilUp();
    const slug = await site.openPetition('Benchmark petition signed without pause');
    // Answers by window of WINDOW_SECONDS (the last answers, after the run's end, count in the last).
    const windowCount = Math.max(1, Math.ceil(SECONDS / WINDOW_SECONDS));
    const windows = Array.from({ length: windowCount }, () => ({ ok: 0, other: 0, latencies: [] as number[] }));
    const started = Date.now();
    const windowOf = (at: number) => windows[Math.min(windowCount - 1, Math.floor((at - started) / (WINDOW_SECONDS * 1000)))]!;
    // The server's CPU and memory at each window's end.
    const cpuMarks = [cpuMs(server.pid)];
    const rssMarks: number[] = [];
    const sampler = setInterval(() => {
      cpuMarks.push(cpuMs(server.pid));
      rssMarks.push(rssMb(server.pid));
    }, WINDOW_SECONDS * 1000);
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const run = autocannon({ url: site.base, connections: SIGNERS, duration: SECONDS, requests: [signingRequest(slug, signerBody('sustained'))] }, (err, r) => (err ? reject(err) : resolve(r)));
      run.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        const w = windowOf(Date.now());
        if (statusCode >= 200 && statusCode < 300) w.ok++;
        else w.other++;
        w.latencies.push(responseTime);
      });
    });
    clearInterval(sampler);
    const rows: Row[] = windows.map((w, i) => {
      const from = i * WINDOW_SECONDS;
      const to = Math.min(SECONDS, from + WINDOW_SECONDS);
      const cpu = cpuMarks[i + 1] !== undefined ? cpuMarks[i + 1]! - cpuMarks[i]! : 0;
      return {
        scenario: `sign, ${SIGNERS} signers, seconds ${from}–${to} [${kind}]`,
        'req/s': Math.round((w.ok + w.other) / (to - from)),
        'p99 ms': p99(w.latencies),
        '2xx': w.ok,
        'non-2xx': w.other,
        'server CPU µs/req': cpu ? Math.round((cpu * 1000) / (w.ok + w.other)) : '',
        'server RSS MB': rssMarks[i] ? Math.round(rssMarks[i]!) : '',
        'host steal %': stealPercent(started + from * 1000, started + to * 1000),
      };
    });
    rows.push({
      scenario: `sign, ${SIGNERS} signers, all ${SECONDS} s [${kind}]`,
      'req/s': Math.round(result.requests.average),
      'p99 ms': result.latency.p99,
      '2xx': result['2xx'],
      'non-2xx': result.non2xx,
      errors: result.errors + result.timeouts,
      'host steal %': stealPercent(result.start, result.finish),
    });
    // Every acknowledged signature stored, none twice (autocannon may count a request whose answer
    // came after the run ended as sent but not answered, so rows may exceed the 2xx by those: at
    // most one a signer).
    const stored = Number((await database.query<{ n: number }>('select count(*) as n from signatures'))[0]!.n);
    const distinct = Number((await database.query<{ n: number }>('select count(distinct email_key) as n from signatures'))[0]!.n);
    const exact = stored >= result['2xx'] && stored - result['2xx'] <= SIGNERS && distinct === stored;
    console.error(`${kind}: sustained ${SECONDS} s: ${result['2xx']} acknowledged, ${stored} rows, ${distinct} distinct signers — ${exact ? 'every acknowledged signature stored once' : 'MISMATCH'}`);
    if (!exact) process.exitCode = 1;
    return rows;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r(null) : server.once('exit', r)));
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runSustainedBench(): Promise<Row[]> {
  const rows = await sustainOn('sqlite');
  if (process.env.TEST_DATABASE_URL) rows.push(...(await sustainOn('postgres')));
  else console.error('sustained: PostgreSQL skipped (TEST_DATABASE_URL is not set)');
  return rows;
}
