/**
 * A viral petition's open pages (`npm run bench -- live`): BENCH_LIVE_VIEWERS (default 5,000, the
 * default MAX_LIVE_VIEWERS) viewers each hold the page's live count (Server-Sent Events) while
 * signatures are confirmed at 300 a second, so the count changes every second and every viewer is
 * sent it. Reports the viewers served and turned away, the updates each received, the server's
 * CPU and peak memory, and how confirming fared meanwhile. SQLite, on this machine only.
 */
import autocannon from 'autocannon';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenSigner } from '../src/lib/tokens.ts';
import { cpuMs, freshDatabase, prepareBenchSite, rssMb, SECRET, signerBody, signingRequest, type Row } from './site.ts';

const VIEWERS = Number(process.env.BENCH_LIVE_VIEWERS ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONFIRMS_A_SECOND = 300;

export async function runLiveBench(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-live-'));
  const database = await freshDatabase('sqlite', dir);
  const site = await prepareBenchSite(database.url);
  const server = site.serve({ stdio: ['ignore', 'ignore', 'inherit'] });
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const streams: http.ClientRequest[] = [];
  try {
    await site.waitUntilUp();
    const slug = await site.openPetition('Watched live by a crowd');
    await autocannon({ url: site.base, connections: 50, amount: CONFIRMS_A_SECOND * SECONDS * 2, requests: [signingRequest(slug, signerBody('watched'))] });
    const ids = (await database.query<{ id: number }>("select id from signatures where status = 'pending' order by id")).map((r) => Number(r.id));
    const rssBefore = rssMb(server.pid);

    let opened = 0;
    let refused = 0;
    let updates = 0;
    const port = new URL(site.base).port;
    for (let i = 0; i < VIEWERS; i++) {
      const request = http.get({ host: '127.0.0.1', port, path: `/petitions/${slug}/live`, agent }, (response) => {
        if (response.statusCode !== 200) {
          refused++;
          response.resume();
          return;
        }
        opened++;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (updates += chunk.split('event: count').length - 1));
      });
      request.on('error', () => refused++);
      streams.push(request);
      // In waves, as a crowd arrives: the kernel's queue of new connections is not a crowd's size.
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < 100 && opened + refused < VIEWERS; i++) await new Promise((r) => setTimeout(r, 100));
    const rssWatched = rssMb(server.pid);

    const signer = new TokenSigner(SECRET, 'signature-confirmation');
    let next = 0;
    const updatesBefore = updates;
    const cpuBefore = cpuMs(server.pid);
    let peak = rssWatched;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid))), 500);
    const confirming = await autocannon({
      url: site.base,
      connections: 20,
      duration: SECONDS,
      overallRate: CONFIRMS_A_SECOND,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/signatures/confirm?token=${signer.sign(ids[next++ % ids.length]!)}` }) }],
    });
    clearInterval(sampler);
    const cpu = cpuMs(server.pid) - cpuBefore;
    const received = updates - updatesBefore;
    return [
      {
        scenario: `${VIEWERS.toLocaleString('en-GB')} open petition pages' live counts, confirming at ${CONFIRMS_A_SECOND}/s [sqlite]`,
        'viewers served': opened,
        'turned away (503)': refused,
        'updates a viewer': opened ? Number((received / opened).toFixed(1)) : 0,
        'server CPU ms/s': Math.round(cpu / SECONDS),
        'RSS MB before / watched / peak': `${Math.round(rssBefore)} / ${Math.round(rssWatched)} / ${Math.round(peak)}`,
        'confirm req/s': Math.round(confirming.requests.average),
        'confirm p99 ms': confirming.latency.p99,
        errors: confirming.errors + confirming.timeouts + confirming.non2xx,
      },
    ];
  } finally {
    for (const request of streams) request.destroy();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
