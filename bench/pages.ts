/**
 * Every page a petition's team and the site's staff open, on a site holding one petition of
 * BENCH_SIGNATURES (default 1,000,000) signatures (`npm run bench -- pages`): each page's time to
 * its first byte and to its last (downloads, the signers' CSV and the hand-in pack, are cut after
 * their first 4 MB: the exports and handin benches measure them whole), and the slowest answer a
 * visitor got meanwhile from the petition's public JSON, asked for every 10 ms: a staff page that
 * holds the event loop shows there, as it would hold signing.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fill } from './scale.ts';
import { BIN, freshDatabase, openPetitionsThenStop, prepareBenchSite, type Row } from './site.ts';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 1_000_000);

/** Staff and team pages (`:slug` is the big petition's); API routes are asked for with the admin's token, the rest with a signed-in session. */
const PATHS = [
  '/',
  '/petitions?q=millions',
  '/admin',
  '/admin/audit',
  '/admin/jobs',
  '/petitions/:slug',
  '/petitions/:slug/edit',
  '/petitions/:slug/team',
  '/petitions/:slug/endorsements',
  '/petitions/:slug/updates/new',
  '/petitions/:slug/thanks',
  '/petitions/:slug/press',
  '/petitions/:slug/stats',
  '/petitions/:slug/handin',
  '/petitions/:slug/fraud',
  '/petitions/:slug/fraud/signatures',
  '/petitions/:slug/fraud/signatures?domain=gmail.com',
  '/petitions/:slug/webhooks',
  '/api/v1/petitions/:slug/stats',
  '/api/v1/petitions/:slug/stats.csv',
  '/api/v1/petitions/:slug/summary.csv',
  '/api/osdi/v1/petitions/:slug/signatures',
  '/api/osdi/v1/petitions/:slug/signatures?page=20000',
  '/petitions/:slug/signatures.csv',
  // Twice: the first pack a process makes loads pdfkit.
  '/petitions/:slug/handin.pdf',
  '/petitions/:slug/handin.pdf',
];
/** Downloads are read to this many bytes only (the exports and handin benches read them whole). */
const DOWNLOAD_READ_BYTES = 4 * 1024 * 1024;
/** Downloads, cut after DOWNLOAD_READ_BYTES. */
const DOWNLOADS = new Set(['/petitions/:slug/signatures.csv', '/petitions/:slug/handin.pdf']);

/** Runs the pages benchmark on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set. */
export async function runPagesBench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) rows.push(...(await runOn(kind)));
  return rows;
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-pages-'));
  const database = await freshDatabase(kind, dir);
  const site = await prepareBenchSite(database.url);
  let server: ChildProcess | undefined;
  const rows: Row[] = [];
  try {
    const [{ slug, id }] = (await openPetitionsThenStop(site, database, ['The petition with millions of signatures'])) as [{ slug: string; id: number }];
    await fill(kind, database.url, id, SIGNATURES);
    const rebuilt = spawnSync(process.execPath, [BIN, 'stats', 'rebuild', slug], { env: site.env, encoding: 'utf8' });
    if (rebuilt.status !== 0) throw new Error(`stats rebuild failed: ${rebuilt.stderr}`);
    server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
    await site.waitUntilUp();
    const cookie = await site.adminCookie();
    // BENCH_PAGES: a pattern choosing some of the pages (e.g. "csv|pdf").
    const chosen = process.env.BENCH_PAGES ? new RegExp(process.env.BENCH_PAGES) : null;
    const seen = new Set<string>();
    for (const pattern of PATHS.filter((p) => !chosen || chosen.test(p))) {
      const again = seen.has(pattern);
      seen.add(pattern);
      const path = pattern.replace(':slug', slug);
      const headers: Record<string, string> = path.startsWith('/api/') ? { authorization: `Bearer ${site.token}` } : { cookie };
      // A visitor reading the petition's JSON every 10 ms while the page is made.
      let watching = true;
      let slowestVisitor = 0;
      const visitor = (async () => {
        while (watching) {
          const started = performance.now();
          await (await fetch(`${site.base}/api/v1/petitions/${slug}`)).arrayBuffer();
          slowestVisitor = Math.max(slowestVisitor, performance.now() - started);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      let abort = new AbortController();
      let started = performance.now();
      let res = await fetch(`${site.base}${path}`, { headers, redirect: 'manual', signal: abort.signal });
      // The download before was cut: its export's place (MAX_EXPORTS_AT_ONCE) is given back once
      // the server sees the connection gone.
      for (let tries = 0; res.status === 503 && DOWNLOADS.has(pattern) && tries < 50; tries++) {
        abort.abort();
        await new Promise((r) => setTimeout(r, 100));
        abort = new AbortController();
        started = performance.now();
        res = await fetch(`${site.base}${path}`, { headers, redirect: 'manual', signal: abort.signal });
      }
      const firstByte = performance.now() - started;
      let bytes = 0;
      if (DOWNLOADS.has(pattern)) {
        // The first megabytes, made while the visitor keeps asking; then the download is cut.
        const reader = res.body!.getReader();
        while (bytes < DOWNLOAD_READ_BYTES) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.byteLength;
        }
        abort.abort();
      } else bytes = (await res.arrayBuffer()).byteLength;
      const whole = performance.now() - started;
      watching = false;
      await visitor;
      rows.push({
        page: `${pattern}${again ? ' (again)' : ''} [${kind}]`,
        status: res.status,
        'first byte ms': Math.round(firstByte),
        'whole ms': Math.round(whole),
        KB: Math.round(bytes / 1024),
        'slowest visitor ms': Math.round(slowestVisitor),
      });
      if (res.status >= 400) throw new Error(`${path} answered ${res.status}`);
    }
  } finally {
    if (server) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  console.error(`pages [${kind}]: one petition of ${SIGNATURES.toLocaleString('en-GB')} signatures`);
  return rows;
}
