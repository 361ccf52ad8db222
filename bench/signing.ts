/**
 * Signing benchmark: the site runs in its own process (`undersign serve`, RATE_LIMIT=off, a fresh
 * SQLite file); autocannon, in this process, signs with distinct addresses, follows confirmation
 * links, and reads the petition page and JSON while nothing else runs. Bounded by BENCH_SECONDS
 * per scenario (default 10). Afterwards the displayed count must equal the confirmed rows.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TokenSigner } from '../src/lib/tokens.ts';
import { freePort } from '../test/helpers/server.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const BIN = fileURLToPath(new URL('../bin/undersign.js', import.meta.url));
const SECRET = 'bench-secret-key-that-is-at-least-32-characters';

type Row = Record<string, string | number>;

function summarise(name: string, r: autocannon.Result, rssMb?: number): Row {
  return {
    scenario: name,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    '2xx': r['2xx'],
    'non-2xx': r.non2xx ? `${r.non2xx} (${Object.entries(r.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, v]) => `${code}×${(v as { count: number }).count}`).join(', ')})` : 0,
    errors: r.errors + r.timeouts,
    ...(rssMb ? { 'server RSS MB': Math.round(rssMb) } : {}),
  };
}

/** A fresh, empty database of one kind and a way to query it directly (for the exactness check). */
async function freshDatabase(kind: 'sqlite' | 'postgres', dir: string) {
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
  const name = `undersign_bench_${process.pid}`;
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

/** Runs the signing scenarios on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set. */
export async function runSigningBench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    rows.push(...(await runOn(kind)));
    rows.push(await crashUnderLoad(kind));
  }
  return rows;
}

/**
 * SIGKILL mid-load: signs at full speed, kills the web process without warning, restarts it (with
 * its worker), replays every submission, confirms everything, and checks nothing acknowledged was
 * lost or doubled, the displayed count equals the confirmed rows, and each kind of area adds up to it.
 */
async function crashUnderLoad(kind: 'sqlite' | 'postgres'): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-crash-'));
  const database = await freshDatabase(kind, dir);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, NODE_ENV: 'production', DATABASE_URL: database.url, SECRET_KEY: SECRET, SMTP_URL: 'smtp://127.0.0.1:9', RATE_LIMIT: 'off', LOG_LEVEL: 'fatal', PORT: String(port), BASE_URL: base };
  const cli = (args: string[], input = '') => spawnSync(process.execPath, [BIN, ...args], { env, input, encoding: 'utf8' });
  const serve = (worker: boolean) => spawn(process.execPath, [BIN, 'serve', ...(worker ? [] : ['--no-worker'])], { env, stdio: 'ignore' });
  const up = async () => {
    for (let i = 0; i < 200 && !(await fetch(`${base}/healthz`).catch(() => null))?.ok; i++) await new Promise((r) => setTimeout(r, 50));
  };
  cli(['migrate']);
  cli(['user', 'create', '--email', 'bench@example.org', '--name', 'Bench', '--admin', '--password-stdin'], 'bench password 123');
  const token = cli(['token', 'create', '--email', 'bench@example.org']).stdout.trim().split('\n').at(-1)!;
  let server = serve(false);
  try {
    await up();
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const slug = ((await (await fetch(`${base}/api/v1/petitions`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'Benchmark petition for crashing', action: 'Measure what survives.', background: 'Numbers, not guesses.', target: { name: 'The decision-maker' } }) })).json()) as { data: { slug: string } }).data.slug;
    await fetch(`${base}/api/v1/petitions/${slug}/open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const body = (i: number) => JSON.stringify({ name: `Signer ${i}`, email: `crash${i}@example.net`, postcode: i % 2 ? 'SW1A 1AA' : 'CF10 1AA', country: i % 10 === 9 ? 'IE' : 'GB' });
    const acknowledged = new Set<number>();
    let n = 0;
    const load = autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          path: `/api/v1/petitions/${slug}/signatures`,
          headers: { 'content-type': 'application/json' },
          setupRequest: (req, context) => {
            (context as { i?: number }).i = n;
            return { ...req, body: body(n++) };
          },
          onResponse: (status, _body, context) => {
            if (status === 202) acknowledged.add((context as { i: number }).i);
          },
        },
      ],
    });
    await new Promise((r) => setTimeout(r, Math.min(3000, (SECONDS * 1000) / 2)));
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    const attempted = n;
    await load;
    server = serve(true);
    await up();
    // Clients whose answer was lost send again: the same answer, no second row.
    for (let i = 0; i < attempted; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, attempted - i) }, (_, k) => fetch(`${base}/api/v1/petitions/${slug}/signatures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i + k) })));
    }
    const stored = await database.query<{ email: string; id: number; status: string }>('select email, id, status from signatures');
    const emails = new Set(stored.map((r) => r.email));
    const lost = [...acknowledged].filter((i) => !emails.has(`crash${i}@example.net`)).length;
    const doubled = stored.length - emails.size;
    const signer = new TokenSigner(SECRET, 'signature-confirmation');
    for (let i = 0; i < stored.length; i += 50) {
      await Promise.all(stored.slice(i, i + 50).map((r) => fetch(`${base}/signatures/confirm?token=${signer.sign(Number(r.id))}`)));
    }
    await new Promise((r) => setTimeout(r, 4000)); // the worker folds area counts every 2 s
    const shown = ((await (await fetch(`${base}/api/v1/petitions/${slug}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { signature_count: number } }).data.signature_count;
    const confirmed = Number((await database.query<{ n: number }>("select count(*) as n from signatures where status = 'confirmed'"))[0]!.n);
    const sums = await database.query<{ kind: string; total: number }>('select kind, sum(count) as total from petition_area_counts group by kind');
    const byCountry = Number(sums.find((s) => s.kind === 'country')?.total ?? 0);
    const byDistrict = Number(sums.find((s) => s.kind === 'postcode_district')?.total ?? 0);
    const ukRows = Number((await database.query<{ n: number }>("select count(*) as n from signatures where status = 'confirmed' and country = 'GB'"))[0]!.n);
    const exact = lost === 0 && doubled === 0 && shown === confirmed && byCountry === confirmed && byDistrict === ukRows;
    console.error(
      `${kind}: SIGKILL under load: ${acknowledged.size} acknowledged before the kill, ${attempted} sent; after restart and replay ${stored.length} rows, ${lost} lost, ${doubled} doubled; displayed ${shown} = confirmed ${confirmed}; country sum ${byCountry}, district sum ${byDistrict} (UK rows ${ukRows}) — ${exact ? 'exact' : 'MISMATCH'}`,
    );
    if (!exact) process.exitCode = 1;
    return { scenario: `SIGKILL mid-signing, restart, replay [${kind}]`, 'req/s': '', '2xx': acknowledged.size, 'non-2xx': `${attempted - acknowledged.size} unanswered`, errors: lost + doubled, 'server RSS MB': '' };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r(null) : server.once('exit', r)));
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-bench-'));
  const database = await freshDatabase(kind, dir);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, NODE_ENV: 'production', DATABASE_URL: database.url, SECRET_KEY: SECRET, SMTP_URL: 'smtp://127.0.0.1:9', RATE_LIMIT: 'off', LOG_LEVEL: 'error', PORT: String(port), BASE_URL: base, WORKER: 'off' };
  const cli = (args: string[], input = '') => spawnSync(process.execPath, [BIN, ...args], { env, input, encoding: 'utf8' });
  cli(['migrate']);
  cli(['user', 'create', '--email', 'bench@example.org', '--name', 'Bench', '--admin', '--password-stdin'], 'bench password 123');
  const token = cli(['token', 'create', '--email', 'bench@example.org']).stdout.trim().split('\n').at(-1)!;
  // The web process alone (no worker): the benchmark measures the request path, not email sending.
  const server = spawn(process.execPath, [BIN, 'serve', '--no-worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const rows: Row[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${base}/healthz`).catch(() => null))?.ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = (await (await fetch(`${base}/api/v1/petitions`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'Benchmark petition for signing', action: 'Measure the signing path.', background: 'Numbers, not guesses.', target: { name: 'The decision-maker' } }) })).json()) as { data: { slug: string } };
    const slug = created.data.slug as string;
    await fetch(`${base}/api/v1/petitions/${slug}/open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const rss = () => Number(spawnSync('ps', ['-o', 'rss=', '-p', String(server.pid)], { encoding: 'utf8' }).stdout.trim()) / 1024;

    let n = 0;
    const sign = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          path: `/api/v1/petitions/${slug}/signatures`,
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `Signer ${n}`, email: `signer${n++}@example.net`, postcode: 'SW1A 1AA', country: 'GB' }) }),
        },
      ],
    });
    rows.push(summarise('sign (POST, distinct emails)', sign, rss()));

    const signer = new TokenSigner(SECRET, 'signature-confirmation');
    const ids = (await database.query<{ id: number }>("select id from signatures where status = 'pending' order by id")).map((r) => Number(r.id));
    let next = 0;
    const confirm = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(ids[next++ % ids.length]!)}` }) }],
    });
    rows.push(summarise('confirm (GET link)', confirm, rss()));

    const page = await autocannon({ url: `${base}/petitions/${slug}`, connections: CONNECTIONS, duration: SECONDS });
    rows.push(summarise('petition page (HTML)', page, rss()));
    const json = await autocannon({ url: `${base}/api/v1/petitions/${slug}`, connections: CONNECTIONS, duration: SECONDS });
    rows.push(summarise('petition JSON', json, rss()));

    // Reads while signing runs at a steady 2,000/s, and how stale the public count gets meanwhile.
    for (const [label, path] of [
      ['petition page while signing at 2,000/s', `/petitions/${slug}`],
      ['petition JSON while signing at 2,000/s', `/api/v1/petitions/${slug}`],
    ] as const) {
      let stalest = 0;
      let done = false;
      const pending = (await database.query<{ id: number }>("select id from signatures where status = 'pending' order by id desc limit 1000")).map((r) => Number(r.id));
      const [reads, signing] = await Promise.all([
        autocannon({ url: `${base}${path}`, connections: CONNECTIONS, duration: SECONDS }),
        autocannon({
          url: base,
          connections: 20,
          duration: SECONDS,
          overallRate: 2000,
          requests: [
            {
              method: 'POST',
              path: `/api/v1/petitions/${slug}/signatures`,
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `Signer ${n}`, email: `signer${n++}@example.net`, postcode: 'SW1A 1AA', country: 'GB' }) }),
            },
          ],
        }),
        (async () => {
          // Confirms one signature at a time and times how long the anonymous answer takes to show it.
          const deadline = Date.now() + SECONDS * 1000 - 2500;
          while (!done && Date.now() < deadline) {
            const id = pending.pop();
            if (id === undefined) break;
            const confirmedAt = Date.now();
            await fetch(`${base}/signatures/confirm?token=${signer.sign(id)}`);
            const live = ((await (await fetch(`${base}/api/v1/petitions/${slug}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { signature_count: number } }).data.signature_count;
            for (;;) {
              const shownNow = ((await (await fetch(`${base}/api/v1/petitions/${slug}`)).json()) as { data: { signature_count: number } }).data.signature_count;
              if (shownNow >= live) break;
              await new Promise((r) => setTimeout(r, 20));
            }
            stalest = Math.max(stalest, Date.now() - confirmedAt);
            await new Promise((r) => setTimeout(r, 200));
          }
          done = true;
        })(),
      ]);
      rows.push({ ...summarise(label, reads, rss()), 'signing req/s': Math.round(signing.requests.average), 'stalest count ms': stalest });
    }

    // With the token, the live answer (anonymous reads may be up to PAGE_CACHE_MS old).
    const shown = ((await (await fetch(`${base}/api/v1/petitions/${slug}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { signature_count: number } }).data.signature_count;
    const confirmedRows = Number((await database.query<{ n: number }>("select count(*) as n from signatures where status = 'confirmed'"))[0]!.n);
    console.error(`${kind}: exactness: displayed count ${shown}, confirmed rows ${confirmedRows} — ${shown === confirmedRows ? 'equal' : 'MISMATCH'}`);
    if (shown !== confirmedRows) process.exitCode = 1;
    for (const row of rows) row.scenario = `${row.scenario} [${kind}]`;
    if (kind !== 'sqlite') return rows;

    // The ceiling: a bare Fastify POST handler on this machine, in this run.
    const barePort = await freePort();
    const bare = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bare-server.ts', import.meta.url))], { env: { ...process.env, PORT: String(barePort) }, stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      for (let i = 0; i < 100; i++) {
        if ((await fetch(`http://127.0.0.1:${barePort}/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => null))?.status === 202) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      let m = 0;
      const ceiling = await autocannon({
        url: `http://127.0.0.1:${barePort}`,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [{ method: 'POST', path: '/sign', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `Signer ${m}`, email: `bare${m++}@example.net`, postcode: 'SW1A 1AA', country: 'GB' }) }) }],
      });
      rows.push(summarise('bare Fastify POST (ceiling)', ceiling));
      console.error(`ceiling ratio: signing ran at ${Math.round((100 * sign.requests.average) / ceiling.requests.average)} % of a bare Fastify POST handler (target ≥ 30 %)`);
    } finally {
      bare.kill('SIGTERM');
    }
    return rows;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
