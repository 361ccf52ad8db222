/**
 * One petition with millions of signatures (`npm run bench -- scale`; BENCH_SIGNATURES, default
 * 1,000,000; the issue's figure is 10,000,000). Measures signing, confirming and reading on an
 * empty petition and on the big one in the same site, the regression between them, and the bytes
 * on disk per signature; then checks the big petition's count and area sums are exact.
 *
 * The big petition is filled directly in the database (as confirmed signatures with realistic
 * names, addresses, postcodes, areas, consent records and hashed IPs), with its counter set and its
 * area and hourly counts rebuilt by `undersign stats rebuild`: signing ten million through HTTP
 * would measure the signing path for twenty minutes, which the signing benchmark already does.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { consentWording } from '../src/modules/signatures/signatures.schema.ts';
import { TokenSigner } from '../src/lib/tokens.ts';
import { storedIp, storedSignatureStatus, storedSignatureTimes } from '../src/db/dialect.ts';
import { signatureEmailKey } from '../src/lib/email-keys.ts';
import { BIN, freshDatabase, openPetitionsThenStop, prepareBenchSite, rssMb, SECRET, signerBody, signingRequest, STEADY_SIGNERS, summarise, type Row } from './site.ts';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

/** Runs the scale benchmark on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set. */
export async function runScaleBench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) rows.push(...(await runOn(kind)));
  return rows;
}

const FIRST = ['Amira', 'Ben', 'Catrin', 'Dafydd', 'Eleanor', 'Farid', 'Grace', 'Harri', 'Isla', 'Jamal', 'Katie', 'Llinos', 'Mohammed', 'Niamh', 'Owen', 'Priya'];
const LAST = ['Williams', 'Jones', 'Patel', 'Evans', 'Smith', 'Khan', 'Thomas', 'Roberts', 'Davies', 'Hughes', 'Okafor', 'Lewis'];
const DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.co.uk', 'hotmail.co.uk', 'icloud.com', 'btinternet.com', 'example.org'];
// Postcode, constituency, local authority, ward, region: a spread across the UK.
const PLACES = [
  ['SW1A 1AA', 'E14001172', 'E09000033', 'E05013806', 'E12000007'],
  ['CF10 1EP', 'W07000050', 'W06000015', 'W05001302', 'W92000004'],
  ['M1 1AE', 'E14001362', 'E08000003', 'E05011368', 'E12000002'],
  ['EH1 1YZ', 'S14000096', 'S12000036', 'S13003155', 'S92000003'],
  ['BT1 5GS', 'N05000001', 'N09000003', 'N08000312', 'N92000002'],
  ['LS1 4DY', 'E14001316', 'E08000035', 'E05011414', 'E12000003'],
  ['B1 1BB', 'E14001094', 'E08000025', 'E05011130', 'E12000005'],
  ['SA1 1NW', 'W07000107', 'W06000011', 'W05001043', 'W92000004'],
] as const;
const BATCH = 20_000;

/** What the signing path writes for a confirmed signature, for signature number `i` (times as each database stores them). */
function signatureRow(kind: 'sqlite' | 'postgres', i: number, petitionId: number, start: number, consent: number[], areaSets: number[]) {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[(i >> 4) % LAST.length]!;
  const domain = DOMAINS[i % DOMAINS.length]!;
  const email = `${first}.${last}${i}@${domain}`;
  const abroad = i % 20 === 19;
  const place = PLACES[i % PLACES.length]!;
  const created = new Date(start + i * 250);
  const confirmed = new Date(created.getTime() + 60_000);
  const address = i % 250_000;
  return {
    petition_id: petitionId,
    name: `${first} ${last}`,
    email,
    email_key: signatureEmailKey(email),
    postcode: abroad ? null : place[0],
    country: abroad ? 'IE' : 'GB',
    public_name: i % 3 === 0 ? 1 : 0,
    contact_opt_in: i % 4 === 0 ? 1 : 0,
    consent_wording_id: consent[(i % 3 === 0 ? 1 : 0) + (i % 4 === 0 ? 2 : 0)]!,
    area_set_id: abroad ? null : areaSets[i % PLACES.length]!,
    ...storedSignatureStatus(kind, 'confirmed'),
    // As confirmation leaves it: the time of the last request is cleared.
    ...storedSignatureTimes(kind, { created_at: created.toISOString(), confirmation_requested_at: null, confirmed_at: confirmed.toISOString() }),
    // As signed within the fraud-review period (IP_RETENTION_DAYS), as a viral petition's are:
    // the address is kept (dropped afterwards; its keyed hash stays). 250,000 addresses in all.
    ip: storedIp(kind, `10.${address >> 16}.${(address >> 8) & 255}.${address & 255}`),
    ip_hash: createHash('sha256').update(`ip-${address}`).digest('base64url').slice(0, 11),
    // Read from the address while it is kept (written at erasure).
    email_domain: null,
    language: i % 25 === 0 ? 'cy' : 'en',
  };
}

/** The four consent wordings the app records (neither, public name, contact, both), in English. */
function consentWordings(): string[] {
  const wording = consentWording('en');
  return [0, 1, 2, 3].map((k) => JSON.stringify({ public_name: k & 1 ? wording.public_name : null, contact_opt_in: k & 2 ? wording.contact_opt_in : null }));
}

/** Fills the petition with `count` confirmed signatures, straight into the database. */
export async function fill(kind: 'sqlite' | 'postgres', url: string, petitionId: number, count: number): Promise<void> {
  const start = Date.parse('2026-10-01T08:00:00Z');
  const columns = Object.keys(signatureRow(kind, 0, petitionId, start, [0, 0, 0, 0], PLACES.map(() => 0)));
  // Each place's set of areas, as a postcode import records them (see area-sets.repository.ts).
  const upsertSet = 'insert into area_sets (key, constituency, local_authority, ward, region) values ($1, $2, $3, $4, $5) on conflict (key) do update set key = excluded.key returning id';
  const setValues = PLACES.map((p) => [p.slice(1).join('|'), ...p.slice(1)]);
  const upsertWording = 'insert into consent_wordings (wording) values ($1) on conflict (wording) do update set wording = excluded.wording returning id';
  if (kind === 'sqlite') {
    const db = new BetterSqlite3(url.replace(/^sqlite:\/\//, ''));
    // A fixture load, not the measured path: durability per batch is not needed here.
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1000000');
    const consent = consentWordings().map((w) => Number((db.prepare(upsertWording.replace('$1', '?')).get(w) as { id: number }).id));
    const areaSets = setValues.map((v) => Number((db.prepare(upsertSet.replace(/\$\d/g, '?')).get(...v) as { id: number }).id));
    const insert = db.prepare(`insert into signatures (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(signatureRow(kind, i, petitionId, start, consent, areaSets));
    });
    for (let i = 0; i < count; i += BATCH) batch(i, Math.min(count, i + BATCH));
    db.prepare('insert into petition_counters (petition_id, shard, confirmed_count) values (?, 0, ?) on conflict (petition_id, shard) do update set confirmed_count = petition_counters.confirmed_count + excluded.confirmed_count').run(petitionId, count);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const consent: number[] = [];
    for (const w of consentWordings()) consent.push(Number((await client.query<{ id: string }>(upsertWording, [w])).rows[0]!.id));
    const areaSets: number[] = [];
    for (const v of setValues) areaSets.push(Number((await client.query<{ id: string }>(upsertSet, v)).rows[0]!.id));
    for (let i = 0; i < count; i += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => signatureRow(kind, i + k, petitionId, start, consent, areaSets));
      // One statement per batch: arrays of each column, unnested on the server.
      const arrays = columns.map((c) => rows.map((r) => r[c as keyof typeof r]));
      const types = columns.map((c) => (['petition_id', 'public_name', 'contact_opt_in', 'consent_wording_id', 'area_set_id', 'status_code'].includes(c) ? 'bigint[]' : c.endsWith('_at') ? 'timestamptz[]' : 'text[]'));
      await client.query(`insert into signatures (${columns.join(', ')}) select * from unnest(${types.map((t, k) => `$${k + 1}::${t}`).join(', ')})`, arrays);
    }
    await client.query('insert into petition_counters (petition_id, shard, confirmed_count) values ($1, 0, $2) on conflict (petition_id, shard) do update set confirmed_count = petition_counters.confirmed_count + excluded.confirmed_count', [petitionId, count]);
    await client.query('vacuum analyze signatures');
  } finally {
    await client.end();
  }
}

/** Where the bytes go: the signature table and each of its indexes, per signature. */
async function bytesByObject(kind: 'sqlite' | 'postgres', url: string, query: <T>(sql: string) => Promise<T[]>): Promise<string> {
  const rows =
    kind === 'sqlite'
      ? (() => {
          const db = new BetterSqlite3(url.replace(/^sqlite:\/\//, ''), { readonly: true });
          try {
            return db.prepare("select name, sum(pgsize) as bytes from dbstat where name = 'signatures' or name in (select name from sqlite_master where tbl_name = 'signatures') group by name order by bytes desc").all() as { name: string; bytes: number }[];
          } finally {
            db.close();
          }
        })()
      : await query<{ name: string; bytes: number }>("select c.relname as name, pg_relation_size(c.oid) as bytes from pg_class c where c.relname = 'signatures' or c.oid in (select indexrelid from pg_index where indrelid = 'signatures'::regclass) order by bytes desc");
  return rows.map((r) => `${r.name} ${Math.round(Number(r.bytes) / SIGNATURES)}`).join(', ');
}

/** Bytes the database takes on disk (SQLite: the file after a checkpoint; PostgreSQL: the database). */
async function databaseBytes(kind: 'sqlite' | 'postgres', url: string, query: <T>(sql: string) => Promise<T[]>): Promise<number> {
  if (kind === 'sqlite') return statSync(url.replace(/^sqlite:\/\//, '')).size;
  return Number((await query<{ n: number }>('select pg_database_size(current_database()) as n'))[0]!.n);
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-scale-'));
  const database = await freshDatabase(kind, dir);
  const site = await prepareBenchSite(database.url);
  const rows: Row[] = [];
  let server: ChildProcess | undefined;
  try {
    const [{ slug: small }, { slug: big, id: bigId }] = (await openPetitionsThenStop(site, database, ['An ordinary petition beside a very big one', 'The petition with millions of signatures'])) as [{ slug: string; id: number }, { slug: string; id: number }];
    const idOf = async (slug: string) => Number((await database.query<{ id: number }>(`select id from petitions where slug = '${slug}'`))[0]!.id);
    const emptyBytes = await databaseBytes(kind, database.url, database.query);
    let began = Date.now();
    await fill(kind, database.url, bigId, SIGNATURES);
    const fillSeconds = (Date.now() - began) / 1000;
    began = Date.now();
    const rebuilt = spawnSync(process.execPath, [BIN, 'stats', 'rebuild', big], { env: { ...process.env, DATABASE_URL: database.url, SECRET_KEY: SECRET, NODE_ENV: 'production', SMTP_URL: 'smtp://127.0.0.1:9', LOG_LEVEL: 'error' }, encoding: 'utf8' });
    if (rebuilt.status !== 0) throw new Error(`stats rebuild failed: ${rebuilt.stderr}`);
    const rebuildSeconds = (Date.now() - began) / 1000;
    const bytes = (await databaseBytes(kind, database.url, database.query)) - emptyBytes;
    console.error(`${kind}: ${SIGNATURES.toLocaleString('en-GB')} signatures loaded in ${fillSeconds.toFixed(0)} s, counts rebuilt in ${rebuildSeconds.toFixed(0)} s; ${(bytes / 1e6).toFixed(0)} MB on disk, ${Math.round(bytes / SIGNATURES)} bytes a signature (${((bytes / SIGNATURES) * 10_000_000 / 1e9).toFixed(2)} GB for 10 million; target ≤ 2 GB)`);
    console.error(`${kind}: bytes a signature by table and index: ${await bytesByObject(kind, database.url, database.query)}`);
    rows.push({ scenario: `on disk [${kind}]`, 'bytes/signature': Math.round(bytes / SIGNATURES), 'MB': Math.round(bytes / 1e6), signatures: SIGNATURES });

    server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
    await site.waitUntilUp();
    const signer = new TokenSigner(SECRET, 'signature-confirmation');
    // Warm up (JIT, caches) on the small petition first, so the first measurement is not penalised.
    await autocannon({ url: site.base, connections: CONNECTIONS, duration: 3, requests: [signingRequest(small, signerBody('warm-up-'))] });
    const rates: Record<string, Record<string, number>> = {};
    for (const [label, slug] of [['empty petition', small], ['big petition', big]] as const) {
      const id = await idOf(slug);
      const before = Number((await database.query<{ n: number }>(`select max(id) as n from signatures`))[0]!.n ?? 0);
      const sign = await autocannon({ url: site.base, connections: CONNECTIONS, duration: SECONDS, requests: [signingRequest(slug, signerBody(`scale-${label.length}-`))] });
      rows.push(summarise(`sign, ${label} [${kind}]`, sign, rssMb(server.pid)));
      const ids = (await database.query<{ id: number }>(`select id from signatures where petition_id = ${id} and status = 'pending' and id > ${before} order by id`)).map((r) => Number(r.id));
      let next = 0;
      const confirm = await autocannon({
        url: site.base,
        connections: CONNECTIONS,
        duration: SECONDS,
        maxOverallRequests: ids.length,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(ids[next++]!)}` }) }],
      });
      rows.push(summarise(`confirm, ${label} [${kind}]`, confirm, rssMb(server.pid)));
      const [page, steady] = await Promise.all([
        autocannon({ url: `${site.base}/petitions/${slug}`, connections: CONNECTIONS, duration: SECONDS, headers: { 'accept-encoding': 'gzip, deflate, br' } }),
        autocannon({ url: site.base, connections: STEADY_SIGNERS, duration: SECONDS, overallRate: 2000, requests: [signingRequest(slug, signerBody(`steady-${label.length}-`))] }),
      ]);
      rows.push({ ...summarise(`page while signing at 2,000/s, ${label} [${kind}]`, page, rssMb(server.pid)), 'signing req/s': Math.round(steady.requests.average) });
      rates[label] = { sign: sign.requests.average, confirm: confirm.requests.average, page: page.requests.average };
    }
    for (const scenario of ['sign', 'confirm', 'page'] as const) {
      const change = (100 * (rates['big petition']![scenario]! - rates['empty petition']![scenario]!)) / rates['empty petition']![scenario]!;
      console.error(`${kind}: ${scenario} on the big petition: ${change >= 0 ? '+' : ''}${change.toFixed(0)} % against the empty one (target: no worse than -20 %)`);
    }

    // Exact after all that: the count shown is the confirmed rows; each kind of area adds up to it.
    const shown = await site.liveCount(big);
    const confirmedRows = Number((await database.query<{ n: number }>(`select count(*) as n from signatures where petition_id = ${bigId} and status = 'confirmed'`))[0]!.n);
    // The worker folds the confirmations' tally events into the area counts.
    const signingServer = server;
    signingServer.kill('SIGTERM');
    await new Promise((r) => signingServer.once('exit', r));
    server = site.serve({ worker: true });
    await site.waitUntilUp();
    for (let i = 0; i < 600; i++) {
      if (Number((await database.query<{ n: number }>('select count(*) as n from tally_events'))[0]!.n) === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const sums = await database.query<{ kind: string; n: number }>(`select kind, sum(count) as n from petition_area_counts where petition_id = ${bigId} group by kind order by kind`);
    const countrySum = Number(sums.find((s) => s.kind === 'country')?.n ?? 0);
    const exact = shown === confirmedRows && countrySum === confirmedRows;
    console.error(`${kind}: exactness on the big petition: displayed ${shown}, confirmed rows ${confirmedRows}, country sum ${countrySum} — ${exact ? 'exact' : 'MISMATCH'}`);
    if (!exact) process.exitCode = 1;

    // A moderator opens the fraud review of the big petition (with the worker running: its findings
    // are computed by a job): how long the page takes, how long until the findings are ready, and
    // how long the site stops answering meanwhile (a /healthz request every 20 ms, its slowest answer).
    {
      const cookie = await site.adminCookie();
      let reviewing = true;
      let slowest = 0;
      const probe = (async () => {
        while (reviewing) {
          const at = Date.now();
          await fetch(`${site.base}/healthz`);
          slowest = Math.max(slowest, Date.now() - at);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const at = Date.now();
      const open = () => fetch(`${site.base}/petitions/${big}/fraud`, { headers: { cookie } });
      const first = await open();
      const firstBody = await first.text();
      const firstMs = Date.now() - at;
      let ready = /These findings are as of|confirmed, [\d,]+ waiting/.test(firstBody);
      while (!ready && Date.now() - at < 600_000) {
        await new Promise((r) => setTimeout(r, 500));
        ready = /These findings are as of/.test(await (await open()).text());
      }
      const readyMs = Date.now() - at;
      reviewing = false;
      await probe;
      console.error(`${kind}: fraud review of the big petition: the page answered ${first.status} in ${firstMs} ms, its findings ${ready ? `were ready after ${readyMs} ms` : 'were NOT ready after 10 minutes'}; the site's slowest answer meanwhile ${slowest} ms`);
      if (!ready) process.exitCode = 1;
      rows.push({ scenario: `fraud review page, big petition [${kind}]`, 'ms': firstMs, 'findings ready ms': ready ? readyMs : 'never', 'slowest other answer ms': slowest, status: first.status });
    }
    return rows;
  } finally {
    if (server && server.exitCode === null) server.kill('SIGTERM');
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
