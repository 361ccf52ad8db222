/**
 * Browsing benchmark: the pages a national site's visitors land on besides a petition's own, on a
 * site holding many petitions (BENCH_BROWSE_OPEN open, default 2,000, and BENCH_BROWSE_CLOSED
 * closed, default 20,000, each with counter rows as signing leaves them): the home page (the most
 * popular, newest and recently closed petitions and the site's total), the list of open petitions
 * by popularity, a page deep in the closed ones, a search, the list as JSON, and a petition's
 * widget (the iframe a news article embeds), share card and "where and when" page, an update's page
 (where an update emailed to every signer brings them) and the petition's feed. Each read alone,
 * then the home page and a search while a petition is signed at 2,000/s, and a petition's page
 * while crawlers fetch petition after petition's PNG share card and QR code (each one drawn). The site runs in its own process, as
 * in the signing benchmark. Bounded by BENCH_SECONDS per scenario (default 10).
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { counterShards } from '../src/db/dialect.ts';
import { cpuMeter, freshDatabase, openPetitionsThenStop, prepareBenchSite, rssMb, signerBody, signingRequest, STEADY_SIGNERS, summarise, type Row } from './site.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const OPEN = Number(process.env.BENCH_BROWSE_OPEN ?? 2000);
const CLOSED = Number(process.env.BENCH_BROWSE_CLOSED ?? 20_000);
const BROWSER = { 'accept-encoding': 'gzip, deflate, br' };
const TOPICS = ['library', 'bus route', 'school crossing', 'hospital ward', 'park', 'speed limit', 'youth club', 'swimming pool', 'post office', 'police station', 'cycle lane', 'food bank'];
const PLACES = ['Cardiff', 'Swansea', 'Leeds', 'Bristol', 'Norwich', 'Dundee', 'Derby', 'Exeter', 'Bangor', 'Hull'];

/** Runs the browsing scenarios on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set. */
export async function runBrowseBench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) rows.push(...(await runOn(kind)));
  return rows;
}

/** The petitions a site collects over years: copies of `template`'s row with their own text, state, times and counts. */
export async function fillPetitions(kind: 'sqlite' | 'postgres', url: string, templateId: number): Promise<void> {
  const shards = counterShards(kind);
  const start = Date.parse('2024-01-01T00:00:00Z');
  const petition = (i: number) => {
    const open = i < OPEN;
    const opened = new Date(start + i * 3_600_000).toISOString();
    return {
      slug: `bench-${i}`,
      title: `Save the ${TOPICS[i % TOPICS.length]} in ${PLACES[Math.floor(i / TOPICS.length) % PLACES.length]} (${i})`,
      state: open ? 'open' : 'closed',
      opened_at: opened,
      closed_at: open ? null : new Date(start + i * 3_600_000 + 180 * 86_400_000).toISOString(),
      // A few petitions with many signatures, most with few (as on any petitions site).
      count: Math.floor(200_000 / (1 + (i % 997))),
    };
  };
  const copy = (p: ReturnType<typeof petition>) => [p.slug, p.title, p.state, p.opened_at, p.opened_at, p.opened_at, p.opened_at, p.closed_at];
  const insertPetition = (placeholder: (n: number) => string) =>
    `insert into petitions (slug, title, action, background, target_name, target_role, target_organisation, goal, owner_id, language, state, created_at, updated_at, submitted_at, opened_at, closed_at)
     select ${placeholder(1)}, ${placeholder(2)}, action, background, target_name, target_role, target_organisation, goal, owner_id, language, ${placeholder(3)}, ${placeholder(4)}, ${placeholder(5)}, ${placeholder(6)}, ${placeholder(7)}, ${placeholder(8)} from petitions where id = ${templateId}`;
  const total = OPEN + CLOSED;
  if (kind === 'sqlite') {
    const db = new BetterSqlite3(url.replace(/^sqlite:\/\//, ''));
    const insert = db.prepare(insertPetition(() => '?'));
    const counter = db.prepare('insert into petition_counters (petition_id, shard, confirmed_count) values (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < total; i++) {
        const p = petition(i);
        const id = Number(insert.run(...copy(p)).lastInsertRowid);
        counter.run(id, 0, p.count);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    for (let i = 0; i < total; i++) {
      const p = petition(i);
      const id = (await client.query<{ id: string }>(`${insertPetition((n) => `$${n}`.concat(n >= 4 ? '::timestamptz' : ''))} returning id`, copy(p))).rows[0]!.id;
      // Confirmations land on any of the shards: a petition signed a while has them all.
      const perShard = Math.floor(p.count / shards);
      await client.query('insert into petition_counters (petition_id, shard, confirmed_count) select $1, s, $2::bigint + case when s = 0 then $3::bigint else 0 end from generate_series(0, $4::int - 1) s', [id, perShard, p.count - perShard * shards, shards]);
    }
    await client.query('commit');
    await client.query('vacuum analyze petitions');
    await client.query('vacuum analyze petition_counters');
  } finally {
    await client.end();
  }
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-browse-'));
  const database = await freshDatabase(kind, dir);
  const site = await prepareBenchSite(database.url);
  const rows: Row[] = [];
  try {
    const [template, signed] = await openPetitionsThenStop(site, database, ['Benchmark petition copied for browsing', 'Benchmark petition signed while browsing']);
    const began = Date.now();
    await fillPetitions(kind, database.url, template!.id);
    console.error(`${kind}: ${OPEN.toLocaleString('en-GB')} open and ${CLOSED.toLocaleString('en-GB')} closed petitions loaded in ${((Date.now() - began) / 1000).toFixed(0)} s`);
    const server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      await site.waitUntilUp();
      // The campaigner's update, as emailed to every signer: its page is where they land.
      const paragraph = 'The commissioner met us today. **Thank you** to everyone who signed: [the minutes](https://example.org/minutes) say the night buses stay.';
      const posted = await fetch(`${site.base}/api/v1/petitions/${signed!.slug}/updates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${site.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'We met the commissioner', body: Array.from({ length: 12 }, () => paragraph).join('\n\n'), email_signers: false }),
      });
      const update = ((await posted.json()) as { data: { id: number } }).data;
      const cpu = cpuMeter(server.pid);
      for (const [label, path] of [
        ['home page', '/'],
        ['open petitions, most popular first', '/petitions'],
        ['closed petitions, page 50', '/petitions?state=closed&page=50'],
        ['search "library"', '/petitions?q=library'],
        ['petition list JSON', '/api/v1/petitions'],
        // A petition's widget in a news site's article (an iframe: every reader loads it), and its share card.
        ['petition embed', `/petitions/${signed!.slug}/embed`],
        ['petition share card (SVG)', `/petitions/${signed!.slug}/card.svg`],
        ['petition "where and when" page', `/petitions/${signed!.slug}/stats`],
        ['an update emailed to signers, its page', `/petitions/${signed!.slug}/updates/${update.id}`],
        ['a petition\'s feed of updates (Atom)', `/petitions/${signed!.slug}/feed.atom`],
      ] as const) {
        const check = await fetch(`${site.base}${path}`);
        if (check.status !== 200) throw new Error(`${path} answered ${check.status}`);
        cpu();
        const run = await autocannon({ url: `${site.base}${path}`, connections: CONNECTIONS, duration: SECONDS, headers: BROWSER });
        rows.push(summarise(`${label} [${kind}]`, run, rssMb(server.pid), cpu()));
      }
      for (const [label, path] of [
        ['home page', '/'],
        ['search "library"', '/petitions?q=library'],
      ] as const) {
        const [reads, signing] = await Promise.all([
          autocannon({ url: `${site.base}${path}`, connections: CONNECTIONS, duration: SECONDS, headers: BROWSER }),
          autocannon({ url: site.base, connections: STEADY_SIGNERS, duration: SECONDS, overallRate: 2000, requests: [signingRequest(signed!.slug, signerBody(`browse-${path.length}-`))] }),
        ]);
        rows.push({ ...summarise(`${label} while signing at 2,000/s [${kind}]`, reads, rssMb(server.pid)), 'signing req/s': Math.round(signing.requests.average), 'signing p99 ms': signing.latency.p99 });
      }
      // Link previews and flyers: crawlers (four at once) fetching the PNG share card and QR
      // code of petition after petition, each one drawn, while visitors read a petition's page.
      let crawled = 0;
      const [page, crawl] = await Promise.all([
        autocannon({ url: `${site.base}/petitions/${signed!.slug}`, connections: CONNECTIONS, duration: SECONDS, headers: BROWSER }),
        autocannon({
          url: site.base,
          connections: 4,
          duration: SECONDS,
          requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/petitions/bench-${Math.floor(crawled / 2) % (OPEN + CLOSED)}/${crawled++ % 2 ? 'qr' : 'card'}.png` }) }],
        }),
      ]);
      rows.push({ ...summarise(`petition page while crawlers fetch share cards and QR codes [${kind}]`, page, rssMb(server.pid)), 'images drawn/s': Math.round(crawl.requests.average), 'image non-2xx': crawl.non2xx });
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    return rows;
  } finally {
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
