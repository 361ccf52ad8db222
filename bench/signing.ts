/**
 * Signing benchmark: the site runs in its own process (`undersign serve`, RATE_LIMIT=off, a fresh
 * SQLite file); autocannon, in this process, signs with distinct addresses, follows confirmation
 * links, and reads the petition page and JSON while nothing else runs. Bounded by BENCH_SECONDS
 * per scenario (default 10). Afterwards the displayed count must equal the confirmed rows.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenSigner } from '../src/lib/tokens.ts';
import { freePort } from '../test/helpers/server.ts';
import { cpuMeter, cpuMs, formVisitor, freshDatabase, prepareBenchSite, rssMb, startSmtpSink, SECRET, signerBody, signingRequest, STEADY_SIGNERS, summarise, type Row } from './site.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/**
 * Signers at once in the second signing row (BENCH_SIGNING_CROWD). Each autocannon connection
 * waits for its answer before signing again, so 50 connections cap the rate at 50 ÷ latency:
 * with a signature's ~8 ms (most of it waiting for its batch's commit) about 6,000 a second,
 * whatever the server could take, while the machine idles a third of the time. A viral petition
 * has far more people signing at once (8,000 a second at 25 ms each is 200 in flight), and the
 * group commit then carries bigger batches.
 */
const SIGNING_CROWD = Number(process.env.BENCH_SIGNING_CROWD ?? 200);
/** Signers at once in the "above capacity" row (BENCH_CROWD). */
const CROWD = Number(process.env.BENCH_CROWD ?? 2000);
const BROWSER = { 'accept-encoding': 'gzip, deflate, br' };

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
  const site = await prepareBenchSite(database.url, 'fatal');
  const { base } = site;
  let server = site.serve();
  try {
    await site.waitUntilUp();
    const slug = await site.openPetition('Benchmark petition for crashing');
    const body = (i: number) => JSON.stringify({ name: `Signer ${i}`, email: `crash${i}@example.net`, postcode: i % 2 ? 'SW1A 1AA' : 'CF10 1AA', country: i % 10 === 9 ? 'IE' : 'GB' });
    const acknowledged = new Set<number>();
    let n = 0;
    const load = autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          ...signingRequest(slug, body, (i, context) => {
            context.i = i;
            n = i + 1;
          }),
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
    server = site.serve({ worker: true });
    await site.waitUntilUp();
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
    const shown = await site.liveCount(slug);
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

/**
 * As `npm start` runs it: the job worker in the web process, sending each confirmation email to a
 * local SMTP server that accepts it, while signing goes on beside it, and a line logged for each
 * request (the default LOG_LEVEL, info; the other rows log errors only). On a database of its own,
 * so the worker starts with an empty queue instead of the other runs' backlog.
 */
async function signWithWorker(kind: 'sqlite' | 'postgres', smtp: Awaited<ReturnType<typeof startSmtpSink>>): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-worker-'));
  const database = await freshDatabase(kind, dir);
  const site = await prepareBenchSite(database.url, 'info', smtp.url);
  const server = site.serve({ worker: true, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await site.waitUntilUp();
    const slug = await site.openPetition('Benchmark petition with its worker');
    const cpuBefore = cpuMs(server.pid);
    const mailedBefore = smtp.received();
    const run = await autocannon({ url: site.base, connections: CONNECTIONS, duration: SECONDS, requests: [signingRequest(slug, signerBody('worker'))] });
    const mailed = smtp.received() - mailedBefore;
    return { ...summarise('sign, job worker in the process (as npm start)', run, rssMb(server.pid), cpuMs(server.pid) - cpuBefore), 'emails sent/s': Math.round(mailed / SECONDS) };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-bench-'));
  const database = await freshDatabase(kind, dir);
  // Where the confirmation emails go when the job worker runs in the web process (its row below).
  const smtp = await startSmtpSink();
  const site = await prepareBenchSite(database.url, 'error', smtp.url);
  const { base } = site;
  // The web process alone (no worker): the benchmark measures the request path, not email sending.
  const server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
  const rows: Row[] = [];
  try {
    await site.waitUntilUp();
    const slug = await site.openPetition('Benchmark petition for signing');
    // Viewed now, signed through after the first run: its form's time token is then old enough.
    const formSigners = await formVisitor(base, slug);
    const rss = () => rssMb(server.pid);
    // The server's CPU over a run (see cpuMs), since the call before.
    const cpu = cpuMeter(server.pid);

    const sign = await autocannon({ url: base, connections: CONNECTIONS, duration: SECONDS, requests: [signingRequest(slug, signerBody('signer'))] });
    const signCpu = cpu();
    rows.push(summarise('sign (POST, distinct emails)', sign, rss(), signCpu));
    const signCrowd = await autocannon({ url: base, connections: SIGNING_CROWD, duration: SECONDS, requests: [signingRequest(slug, signerBody('crowd-signer'))] });
    const signCrowdCpu = cpu();
    rows.push(summarise(`sign, ${SIGNING_CROWD} signers at once`, signCrowd, rss(), signCrowdCpu));
    // As most people sign: the page's form, then the "check your email" page (two requests a signature).
    const signForm = await autocannon({ url: base, connections: SIGNING_CROWD, duration: SECONDS, requests: formSigners('form-signer') });
    const signedThroughForm = (signForm.statusCodeStats?.['303'] as { count: number } | undefined)?.count ?? 0;
    const refusedForms = Object.entries(signForm.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2') && code !== '303');
    rows.push({
      ...summarise(`sign through the form and its next page, ${SIGNING_CROWD} at once`, signForm, rss(), cpu()),
      'non-2xx': [`303×${signedThroughForm} (signed)`, ...refusedForms.map(([code, v]) => `${code}×${(v as { count: number }).count}`)].join(', '),
      'signing req/s': Math.round(signedThroughForm / SECONDS),
    });

    const signer = new TokenSigner(SECRET, 'signature-confirmation');
    // Each pending signature confirmed once (a repeated link is cheaper: it changes nothing), but
    // for the last 2,000, left for the staleness measurement below.
    const ids = (await database.query<{ id: number }>("select id from signatures where status = 'pending' order by id")).map((r) => Number(r.id)).slice(0, -2000);
    let next = 0;
    cpu();
    const confirm = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: SECONDS,
      maxOverallRequests: ids.length,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(ids[next++]!)}` }) }],
    });
    rows.push(summarise('confirm (GET link)', confirm, rss(), cpu()));
    // As many people following their links at once as signed at once above, on the signatures
    // the row before left pending.
    if (ids.length - next >= 1000) {
      const confirmCrowd = await autocannon({
        url: base,
        connections: SIGNING_CROWD,
        duration: SECONDS,
        maxOverallRequests: ids.length - next,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(ids[next++]!)}` }) }],
      });
      rows.push(summarise(`confirm, ${SIGNING_CROWD} at once`, confirmCrowd, rss(), cpu()));
    }

    // Pages are asked for as browsers ask (every browser takes gzip).
    const page = await autocannon({ url: `${base}/petitions/${slug}`, connections: CONNECTIONS, duration: SECONDS, headers: BROWSER });
    rows.push(summarise('petition page (HTML)', page, rss(), cpu()));
    // A first visit, as a browser makes it: the page, then the stylesheet, script and icon it links to.
    const firstVisit = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [`/petitions/${slug}`, '/static/styles.css', '/static/live-count.js', '/static/favicon.svg'].map((path) => ({ method: 'GET' as const, path, headers: BROWSER })),
    });
    rows.push(summarise('a first visit: the page and its 3 files (4 requests a visit)', firstVisit, rss(), cpu()));
    const json = await autocannon({ url: `${base}/api/v1/petitions/${slug}`, connections: CONNECTIONS, duration: SECONDS });
    rows.push(summarise('petition JSON', json, rss(), cpu()));

    // Reads while signing runs at a steady 2,000/s, and how stale the public count gets meanwhile.
    for (const [label, path] of [
      ['petition page while signing at 2,000/s', `/petitions/${slug}`],
      ['petition JSON while signing at 2,000/s', `/api/v1/petitions/${slug}`],
    ] as const) {
      let stalest = 0;
      let done = false;
      const pending = (await database.query<{ id: number }>("select id from signatures where status = 'pending' order by id desc limit 1000")).map((r) => Number(r.id));
      const [reads, signing] = await Promise.all([
        autocannon({ url: `${base}${path}`, connections: CONNECTIONS, duration: SECONDS, headers: BROWSER }),
        autocannon({ url: base, connections: STEADY_SIGNERS, duration: SECONDS, overallRate: 2000, requests: [signingRequest(slug, signerBody(`steady-${path.length}-`))] }),
        (async () => {
          // Confirms one signature at a time and times how long the anonymous answer takes to show it.
          const deadline = Date.now() + SECONDS * 1000 - 2500;
          while (!done && Date.now() < deadline) {
            const id = pending.pop();
            if (id === undefined) break;
            const confirmedAt = Date.now();
            await fetch(`${base}/signatures/confirm?token=${signer.sign(id)}`);
            const live = await site.liveCount(slug);
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

    // Above capacity: far more signers at once than the site serves in a moment. Each must get an
    // answer (accepted, or 503 with Retry-After once MAX_WAITING_SIGNATURES wait), never a
    // timeout, a reset or another 5xx. Twice: signers who keep their connection and sign again at
    // once (a load generator's crowd, or a proxy's pooled connections), and signers who each come
    // on a new connection (browsers: a signature is rarely sent on the connection that loaded the page).
    for (const [label, oneConnectionEach] of [[`above capacity: ${CROWD.toLocaleString('en-GB')} signers at once`, false], [`above capacity: ${CROWD.toLocaleString('en-GB')} signers at once, a connection each`, true]] as const) {
      const crowdErrors = new Map<string, number>();
      // The first answer on each connection: autocannon counts neither a timeout nor an error for a
      // request still unanswered when the run ends, such as one on a connection the server has not
      // yet taken from the kernel's queue (see docs/performance.md, "a crowd that keeps its connections").
      const firstAnswers = new Map<unknown, number>();
      const request = signingRequest(slug, signerBody(oneConnectionEach ? 'crowd-new-' : 'crowd-'));
      cpu();
      const crowd = await new Promise<autocannon.Result>((resolve, reject) => {
        const run = autocannon(
          { url: base, connections: CROWD, duration: SECONDS, timeout: 30, requests: [oneConnectionEach ? { ...request, headers: { ...request.headers, connection: 'close' } } : request] },
          (err, result) => (err ? reject(err) : resolve(result)),
        );
        // Which errors, if any: resets, refused connections, timeouts.
        run.on('reqError', (err: NodeJS.ErrnoException) => crowdErrors.set(err.code ?? err.message, (crowdErrors.get(err.code ?? err.message) ?? 0) + 1));
        run.on('response', (client: unknown, _status: number, _bytes: number, ms: number) => {
          if (!firstAnswers.has(client)) firstAnswers.set(client, ms);
        });
      });
      const neverAnswered = CROWD - firstAnswers.size;
      const slowestFirst = Math.round(Math.max(0, ...firstAnswers.values()));
      rows.push({ ...summarise(label, crowd, rss(), cpu()), 'signers never answered': neverAnswered, 'slowest first answer ms': slowestFirst });
      const otherFailures = Object.keys(crowd.statusCodeStats ?? {}).filter((code) => !code.startsWith('2') && code !== '503');
      // A client that waits more than 10 s (autocannon's default, and about a person's patience) has timed out.
      const starved = neverAnswered > 0 || slowestFirst > 10_000;
      if (crowd.errors + crowd.timeouts > 0 || otherFailures.length > 0 || starved) {
        const kinds = [...crowdErrors].map(([code, n]) => `${n} ${code}`).join(', ');
        console.error(`${kind}: ${label}: ${crowd.errors} errors${kinds ? ` (${kinds})` : ''}, ${crowd.timeouts} timeouts, other answers ${otherFailures.join(', ') || 'none'}, ${neverAnswered} signers never answered in ${SECONDS} s, slowest first answer ${slowestFirst} ms — FAILED`);
        process.exitCode = 1;
      }
    }

    rows.push(await signWithWorker(kind, smtp));

    // The live answer (anonymous reads may be up to PAGE_CACHE_MS old).
    const shown = await site.liveCount(slug);
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
      const bareRequest: autocannon.Request = { method: 'POST', path: '/sign', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `Signer ${m}`, email: `bare${m++}@example.net`, postcode: 'SW1A 1AA', country: 'GB' }) }) };
      // Against each signing row, with as many connections as it had.
      for (const [label, connections, signing, signingCpu] of [
        ['bare Fastify POST (ceiling)', CONNECTIONS, sign, signCpu],
        [`bare Fastify POST (ceiling), ${SIGNING_CROWD} connections`, SIGNING_CROWD, signCrowd, signCrowdCpu],
      ] as const) {
        const bareCpu = cpuMs(bare.pid);
        const ceiling = await autocannon({ url: `http://127.0.0.1:${barePort}`, connections, duration: SECONDS, requests: [bareRequest] });
        const ceilingCpu = cpuMs(bare.pid) - bareCpu;
        rows.push(summarise(label, ceiling, undefined, ceilingCpu));
        console.error(`ceiling ratio, ${connections} connections: signing ran at ${Math.round((100 * signing.requests.average) / ceiling.requests.average)} % of a bare Fastify POST handler (target ≥ 30 %)`);
        if (signingCpu && ceilingCpu) {
          const perSignature = (signingCpu * 1000) / signing.requests.total;
          const perBare = (ceilingCpu * 1000) / ceiling.requests.total;
          console.error(`server CPU, ${connections} connections: ${Math.round(perSignature)} µs a signature, ${Math.round(perBare)} µs a bare request (${Math.round((100 * perBare) / perSignature)} %)`);
        }
      }
    } finally {
      bare.kill('SIGTERM');
    }
    return rows;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await smtp.stop();
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
