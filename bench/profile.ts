/**
 * A CPU profile of the site under one load (`npx tsx bench/profile.ts sign|sign-form|sign-with-worker|emails|confirm|page|json|invalid|page-while-signing|search`,
 * on SQLite, or with `PROFILE_DB=postgres` on a fresh database of TEST_DATABASE_URL's server;
 * `PROFILE_CONNECTIONS`, default 50; `PROFILE_LOG_LEVEL`, default error as in the benchmarks,
 * `info` as `npm start` logs):
 * the same set-up as the benchmarks, with the server started under --cpu-prof; prints where the
 * time went (self time by function, and by package), to choose what to speed up next.
 */
import autocannon from 'autocannon';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { TokenSigner } from '../src/lib/tokens.ts';
import { fillPetitions } from './browse.ts';
import { spawn } from 'node:child_process';
import { BIN, cpuMs, formVisitor, freshDatabase, POSTGRES_WEB_NODE_FLAGS, prepareBenchSite, PRODUCTION_NODE_FLAGS, SECRET, signerBody, signingRequest, startSmtpSink, STEADY_SIGNERS } from './site.ts';

const scenario = process.argv[2] ?? 'sign';
const dir = mkdtempSync(join(tmpdir(), 'undersign-profile-'));
// PROFILE_DB=postgres profiles on a fresh PostgreSQL database (TEST_DATABASE_URL's server).
const database = process.env.PROFILE_DB === 'postgres' ? await freshDatabase('postgres', dir) : null;
// emails: a backlog of confirmation emails signed with no worker, then sent by a worker process alone (profiled) to a real SMTP server.
const smtp = scenario === 'emails' || scenario === 'sign-with-worker' ? await startSmtpSink({ delayMs: Number(process.env.PROFILE_SMTP_DELAY_MS ?? 0) }) : null;
const site = await prepareBenchSite(database?.url ?? `sqlite://${join(dir, 'db.sqlite')}`, process.env.PROFILE_LOG_LEVEL ?? 'error', smtp?.url);
// sign-with-worker: the job worker in the web process, as `npm start` runs it.
// The web process's V8 settings as deployed on each database (docs/deploy.md); a worker's are npm start's.
const webFlags = database ? POSTGRES_WEB_NODE_FLAGS : PRODUCTION_NODE_FLAGS;
const profiling = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
const server = site.serve({ worker: scenario === 'sign-with-worker', stdio: ['ignore', 'ignore', 'inherit'], nodeArgs: scenario === 'emails' ? webFlags : [...webFlags, ...profiling] });
await site.waitUntilUp();
const slug = await site.openPetition('Profiled petition');
const load = (options: Partial<autocannon.Options>) => autocannon({ url: site.base, connections: Number(process.env.PROFILE_CONNECTIONS ?? 50), duration: Number(process.env.BENCH_SECONDS ?? 10), ...options });
if (scenario === 'confirm') {
  await load({ duration: 4, requests: [signingRequest(slug, signerBody('pre'))] });
  const pendingSql = "select id from signatures where status = 'pending'";
  const ids = database
    ? (await database.query<{ id: number }>(pendingSql)).map((r) => Number(r.id))
    : (new BetterSqlite3(join(dir, 'db.sqlite'), { readonly: true }).prepare(pendingSql).pluck().all() as number[]);
  const signer = new TokenSigner(SECRET, 'signature-confirmation');
  let next = 0;
  const r = await load({ requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(ids[next++ % ids.length]!)}` }) }] });
  console.log(`confirm: ${Math.round(r.requests.average)} req/s`);
} else if (scenario === 'invalid') {
  // A flood of unusable submissions must cost no more than signatures do.
  const r = await load({ url: `${site.base}/api/v1/petitions/${slug}/signatures`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bot', email: 'not an address', country: 'GB' }) });
  console.log(`invalid: ${Math.round(r.requests.average)} req/s (${r.non2xx} refused)`);
} else if (scenario === 'page-while-signing') {
  // The petition page while 200 signers ask for 2,000 signatures a second (as in the bench).
  const [page, signing] = await Promise.all([
    load({ url: `${site.base}/petitions/${slug}`, headers: { 'accept-encoding': 'gzip, deflate, br' } }),
    load({ connections: STEADY_SIGNERS, overallRate: 2000, requests: [signingRequest(slug, signerBody('steady'))] }),
  ]);
  console.log(`page-while-signing: ${Math.round(page.requests.average)} req/s (p99 ${page.latency.p99} ms), signing ${Math.round(signing.requests.average)} req/s`);
} else if (scenario === 'emails') {
  const backlog = Number(process.env.PROFILE_EMAILS ?? 20_000);
  await load({ amount: backlog, duration: 600, requests: [signingRequest(slug, signerBody('mail'))] });
  const worker = spawn(process.execPath, [...PRODUCTION_NODE_FLAGS, ...profiling, BIN, 'worker'], { env: site.env, stdio: ['ignore', 'ignore', 'inherit'] });
  const started = Date.now();
  while (smtp!.received() < backlog && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 50));
  const seconds = (Date.now() - started) / 1000;
  const workerCpuMs = cpuMs(worker.pid);
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  console.log(`emails: ${smtp!.received()} of ${backlog} in ${seconds.toFixed(1)} s, ${Math.round(smtp!.received() / seconds)}/s, ${Math.round((workerCpuMs * 1000) / smtp!.received())} µs of worker CPU an email (start-up included)`);
} else if (scenario === 'search') {
  // A search of a site holding 22,000 petitions (see browse.ts), never kept.
  const templateId = Number((database ? await database.query<{ id: number }>('select id from petitions') : (new BetterSqlite3(join(dir, 'db.sqlite'), { readonly: true }).prepare('select id from petitions').all() as { id: number }[]))[0]!.id);
  await fillPetitions(database ? 'postgres' : 'sqlite', database?.url ?? `sqlite://${join(dir, 'db.sqlite')}`, templateId);
  const r = await load({ url: `${site.base}/petitions?q=library`, headers: { 'accept-encoding': 'gzip, deflate, br' } });
  console.log(`search: ${Math.round(r.requests.average)} req/s`);
} else if (scenario === 'sign-form') {
  // Signing as most people do, through the petition page's form (see formVisitor).
  const visitor = await formVisitor(site.base, slug);
  await new Promise((r) => setTimeout(r, 3500));
  const r = await load({ requests: visitor('form') });
  console.log(`sign-form: ${Math.round(r.requests.average)} req/s (two a signature), ${JSON.stringify(r.statusCodeStats)}`);
} else if (scenario === 'sign' || scenario === 'sign-with-worker') {
  const r = await load({ requests: [signingRequest(slug, signerBody('signer'))] });
  console.log(`sign: ${Math.round(r.requests.average)} req/s`);
} else {
  // As a browser asks: compressed if the server will.
  const r = await load({ url: `${site.base}${scenario === 'page' ? `/petitions/${slug}` : `/api/v1/petitions/${slug}`}`, headers: { 'accept-encoding': 'gzip, deflate, br' } });
  console.log(`${scenario}: ${Math.round(r.requests.average)} req/s`);
}
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
await database?.dispose();
await smtp?.stop();

// One profile per thread: the web thread's, and the SQLite writer thread's where it ran.
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size);
type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } };
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const time = new Map<number, number>();
  profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...time.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const t = time.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + t);
    const owner = url.includes('node_modules/') ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1') : url.startsWith('node:') ? `node:${url.slice(5).split('/')[0]}` : url ? 'undersign' : functionName;
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + t);
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`).join('\n');
  console.log(`${file}\n== self time by function\n${top(byFunction, Number(process.env.TOP ?? 40))}\n== by package\n${top(byPackage, 20)}`);
}
