/**
 * What every benchmark needs: a site of its own in its own process (fresh database, an admin and
 * an API token, rate limits off), an open petition, and the signing request for autocannon.
 */
import type autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { join, resolve } from 'node:path';
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../test/helpers/server.ts';

/**
 * The sites run the built JavaScript, as `npm start` does in production (scripts/build.js), not
 * the sources through tsx: that is what a deployment's speed and memory are. BENCH_BIN runs
 * another build instead (a copy of dist/ beside it, e.g. dist-b/cli.js), to compare two versions
 * in alternating runs.
 */
export const BIN = process.env.BENCH_BIN ? resolve(process.env.BENCH_BIN) : fileURLToPath(new URL('../dist/cli.js', import.meta.url));
/** The V8 heap settings `npm start` runs with (package.json), so the bench measures the same memory. */
export const PRODUCTION_NODE_FLAGS = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start.match(/--max-[a-z-]+=\d+/g) ?? [];
/**
 * The V8 heap settings of a web process on PostgreSQL, from the web row of docs/deploy.md's
 * table of processes (a larger young generation than `npm start`'s: no SQLite threads share its
 * memory budget).
 */
export const POSTGRES_WEB_NODE_FLAGS = (() => {
  const row = readFileSync(new URL('../docs/deploy.md', import.meta.url), 'utf8')
    .split('\n')
    .find((line) => line.startsWith('| web |'));
  const flags = row?.match(/--max-[a-z-]+=\d+/g);
  if (!flags) throw new Error('docs/deploy.md: no web process command with its V8 settings in the table of processes');
  return flags;
})();
const build = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.js', import.meta.url))], { stdio: 'inherit' });
if (build.status !== 0) throw new Error('the build failed: see above');
export const SECRET = 'bench-secret-key-that-is-at-least-32-characters';

export interface BenchSite {
  base: string;
  /** An admin's API token. */
  token: string;
  /** The environment the site's processes run with (for another process on the same site, e.g. `undersign worker`). */
  env: NodeJS.ProcessEnv;
  /** Starts `undersign serve` (with its job worker when asked). */
  serve(options?: { worker?: boolean; stdio?: StdioOptions; nodeArgs?: string[]; bin?: string }): ChildProcess;
  /** Resolves once the site answers /healthz. */
  waitUntilUp(): Promise<void>;
  /** Creates and opens a petition through the API; returns its slug. */
  openPetition(title: string): Promise<string>;
  /** The petition's count as the team sees it: live, not the public cache. */
  liveCount(slug: string): Promise<number>;
  /** Signs in as the admin through the login form; returns the Cookie header for staff pages. */
  adminCookie(): Promise<string>;
}

/**
 * Migrates a fresh database, creates an admin with a token, and says how to start the site on it.
 * Email goes to `smtpUrl` (by default a closed port: every send fails and is retried later).
 */
export async function prepareBenchSite(databaseUrl: string, logLevel = 'error', smtpUrl = 'smtp://127.0.0.1:9'): Promise<BenchSite> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, SECRET_KEY: SECRET, SMTP_URL: smtpUrl, RATE_LIMIT: 'off', LOG_LEVEL: logLevel, PORT: String(port), BASE_URL: base };
  const cli = (args: string[], input = '') => spawnSync(process.execPath, [BIN, ...args], { env, input, encoding: 'utf8' });
  cli(['migrate']);
  cli(['user', 'create', '--email', 'bench@example.org', '--name', 'Bench', '--admin', '--password-stdin'], 'bench password 123');
  const token = cli(['token', 'create', '--email', 'bench@example.org']).stdout.trim().split('\n').at(-1)!;
  return {
    base,
    token,
    env,
    serve: ({ worker = false, stdio = 'ignore', nodeArgs = databaseUrl.startsWith('postgres') ? POSTGRES_WEB_NODE_FLAGS : PRODUCTION_NODE_FLAGS, bin = BIN } = {}) => spawn(process.execPath, [...nodeArgs, bin, 'serve', ...(worker ? [] : ['--no-worker'])], { env, stdio }),
    waitUntilUp: async () => {
      for (let i = 0; i < 200 && !(await fetch(`${base}/healthz`).catch(() => null))?.ok; i++) await new Promise((r) => setTimeout(r, 50));
    },
    openPetition: async (title) => {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const body = JSON.stringify({ title, action: 'Measure the signing path.', background: 'Numbers, not guesses.', target: { name: 'The decision-maker' } });
      const slug = ((await (await fetch(`${base}/api/v1/petitions`, { method: 'POST', headers, body })).json()) as { data: { slug: string } }).data.slug;
      await fetch(`${base}/api/v1/petitions/${slug}/open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      return slug;
    },
    adminCookie: async () => {
      const cookies = new Map<string, string>();
      const keep = (res: Response) => {
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const at = pair!.indexOf('=');
          cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
        }
      };
      const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const form = await fetch(`${base}/login`);
      keep(form);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
      const body = new URLSearchParams({ _csrf: csrf, email: 'bench@example.org', password: 'bench password 123' }).toString();
      const res = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { cookie: header(), 'content-type': 'application/x-www-form-urlencoded' }, body });
      if (res.status !== 303) throw new Error(`bench sign-in failed: ${res.status}`);
      keep(res);
      return header();
    },
    liveCount: async (slug) =>
      ((await (await fetch(`${base}/api/v1/petitions/${slug}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { signature_count: number } }).data.signature_count,
  };
}

/**
 * A real SMTP server on 127.0.0.1 that accepts every message and keeps only a count (a mail relay
 * stand-in: the worker's sends succeed, and nothing is parsed on this side). The bench site's
 * admin is bench@example.org (see prepareBenchSite).
 */
export async function startSmtpSink(options: { delayMs?: number; notCounting?: string } = {}): Promise<{ url: string; received: () => number; stop: () => Promise<void> }> {
  let received = 0;
  const delayMs = options.delayMs ?? 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData: (stream, session, callback) => {
      stream.resume();
      stream.on('end', () => {
        // `notCounting`: an address whose mail is not counted (the site's staff, e.g. milestone emails).
        if (!session.envelope.rcptTo.some((r) => r.address === options.notCounting)) received++;
        // A relay's answer takes a while (its own checks, its disk, the network): delayMs stands in for it.
        if (delayMs > 0) setTimeout(callback, delayMs);
        else callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Signing through the JSON API, each request with the body `bodyFor(n)` for n = 0, 1, 2… */
export function signingRequest(slug: string, bodyFor: (n: number) => string, onSent?: (n: number, context: Record<string, unknown>) => void): autocannon.Request {
  let n = 0;
  return {
    method: 'POST',
    path: `/api/v1/petitions/${slug}/signatures`,
    headers: { 'content-type': 'application/json' },
    setupRequest: (req, context) => {
      onSent?.(n, context as Record<string, unknown>);
      return { ...req, body: bodyFor(n++) };
    },
  };
}

/**
 * Signing as most people do, through the petition page's form: one visitor's cookies and tokens
 * from a view of the page, then, for each signature, the form posted with a new address and the
 * "check your email" page it redirects to. The form's time token must be SIGN_MIN_SECONDS (3) old
 * when it is posted: view the page a few seconds before the run.
 */
export async function formVisitor(base: string, slug: string): Promise<(prefix: string) => autocannon.Request[]> {
  const page = await fetch(`${base}/petitions/${slug}`);
  const html = await page.text();
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
  const [csrf, formStarted] = [field('_csrf'), field('form_started')];
  if (!csrf || !formStarted) throw new Error('the petition page has no signing form');
  return (prefix) => {
    let n = 0;
    return [
      {
        method: 'POST',
        path: `/petitions/${slug}/sign`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        setupRequest: (req) => ({ ...req, body: new URLSearchParams({ _csrf: csrf, form_started: formStarted, name: `Signer ${n}`, email: `${prefix}${n++}@example.net`, postcode: 'SW1A 1AA', country: 'GB' }).toString() }),
      },
      { method: 'GET', path: `/petitions/${slug}/signed`, headers: { cookie, 'accept-encoding': 'gzip, deflate, br' } },
    ];
  };
}

/** A distinct signer for the n-th signature (`prefix` keeps runs on one petition apart). */
export function signerBody(prefix: string) {
  return (n: number) => JSON.stringify({ name: `Signer ${n}`, email: `${prefix}${n}@example.net`, postcode: 'SW1A 1AA', country: 'GB' });
}

/** A process's resident memory in MB. */
export function rssMb(pid: number | undefined): number {
  return Number(spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim()) / 1024;
}

/**
 * The CPU time a process has used so far (user and system, all its threads), in ms; 0 where
 * /proc is missing. Over a run, divided by its requests, it gives the server's CPU a request: a
 * cost that depends less than req/s on how the load generator and the server share the cores.
 */
export function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (USER_HZ, 100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** A meter of a process's CPU (see cpuMs): each call gives the ms used since the call before (or since the meter was made). */
export function cpuMeter(pid: number | undefined): () => number {
  let since = cpuMs(pid);
  return () => {
    const until = cpuMs(pid);
    const used = until - since;
    since = until;
    return used;
  };
}

export type Row = Record<string, string | number>;

/**
 * The CPU time the host took from this virtual machine ("steal" in /proc/stat), sampled through
 * the run so each row can say how much of its time was lost that way: on a shared host the same
 * code measures a third slower when neighbours are busy, and a figure is only comparable with
 * one taken at a similar steal.
 */
const cpuSamples: { at: number; steal: number; total: number }[] = [];
function sampleCpu(): void {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  cpuSamples.push({ at: Date.now(), steal: fields[7] ?? 0, total: fields.reduce((a, b) => a + b, 0) });
  if (cpuSamples.length > 50_000) cpuSamples.splice(0, 10_000);
}
if (existsSync('/proc/stat')) {
  sampleCpu();
  setInterval(sampleCpu, 250).unref();
}

/** The share of the machine's CPU time the host took between two moments, in %, or '' where unknown. */
export function stealPercent(from: Date | number, to: Date | number): number | '' {
  const first = cpuSamples.find((c) => c.at >= +from);
  const last = cpuSamples.findLast((c) => c.at <= +to);
  if (!first || !last || last.total <= first.total) return '';
  return Math.round((100 * (last.steal - first.steal)) / (last.total - first.total));
}

/** A table row for one run; `serverCpuMs` (see cpuMs) adds the server's CPU a request. */
export function summarise(name: string, r: autocannon.Result, rssMb?: number, serverCpuMs?: number): Row {
  return {
    scenario: name,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    '2xx': r['2xx'],
    'non-2xx': r.non2xx ? `${r.non2xx} (${Object.entries(r.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, v]) => `${code}×${(v as { count: number }).count}`).join(', ')})` : 0,
    errors: r.errors + r.timeouts,
    ...(rssMb ? { 'server RSS MB': Math.round(rssMb) } : {}),
    ...(serverCpuMs && r.requests.total ? { 'server CPU µs/req': Math.round((serverCpuMs * 1000) / r.requests.total) } : {}),
    'host steal %': stealPercent(r.start, r.finish),
  };
}

/**
 * Opens petitions through a server started for the purpose, then stops it: a benchmark then fills
 * them straight into the database (fill in scale.ts) before measuring a fresh server. Returns each
 * petition's slug and id, in order.
 */
export async function openPetitionsThenStop(site: BenchSite, database: { query: <T>(sql: string) => Promise<T[]> }, titles: string[]): Promise<{ slug: string; id: number }[]> {
  const server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await site.waitUntilUp();
    const opened: { slug: string; id: number }[] = [];
    for (const title of titles) {
      const slug = await site.openPetition(title);
      opened.push({ slug, id: Number((await database.query<{ id: number }>(`select id from petitions where slug = '${slug}'`))[0]!.id) });
    }
    return opened;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

let postgresDatabases = 0;

/** A fresh, empty database of one kind and a way to query it directly (for the exactness check). */
export async function freshDatabase(kind: 'sqlite' | 'postgres', dir: string) {
  if (kind === 'sqlite') {
    const path = join(dir, 'bench.sqlite');
    let db: BetterSqlite3.Database | null = null;
    return {
      url: `sqlite://${path}`,
      query: async <T>(sql: string) => {
        db ??= new BetterSqlite3(path, { readonly: true });
        return db.prepare(sql).all() as T[];
      },
      dispose: async () => db?.close(),
    };
  }
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  // One name per call: a run may hold two at once (the worker row has a database of its own).
  const name = `undersign_bench_${process.pid}_${++postgresDatabases}`;
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    url: url.toString(),
    query: async <T>(sql: string) => (await client.query(sql)).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v]))) as T[],
    dispose: async () => {
      await client.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * Signers at once during "while signing at 2,000/s": a viral petition's signers are many people,
 * each with a request or two in flight, so the offered rate must not hinge on a few connections'
 * latency (20 connections cap the rate at 20 ÷ latency).
 */
export const STEADY_SIGNERS = 200;
