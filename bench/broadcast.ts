/**
 * An update emailed to every opted-in signer of a big petition (`npm run bench -- broadcast`;
 * BENCH_BROADCAST_SIGNERS, default 400,000, of whom a quarter agreed to hear from the campaign):
 * the built server with its worker, a local SMTP server that accepts at once, on SQLite and (with
 * TEST_DATABASE_URL) PostgreSQL. Prints the emails a second overall and over the first and the
 * last tenth of the recipients: flat if each batch costs the same however many were sent before
 * (it grew with every batch until 2026-12-07). Checks every recipient got one email.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fill } from './scale.ts';
import { freshDatabase, openPetitionsThenStop, prepareBenchSite, rssMb, startSmtpSink, type Row } from './site.ts';

const SIGNERS = Number(process.env.BENCH_BROADCAST_SIGNERS ?? 400_000);
const TIMEOUT_MS = Number(process.env.BENCH_BROADCAST_TIMEOUT_SECONDS ?? 900) * 1000;

export async function runBroadcastBench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) rows.push(await runOn(kind));
  return rows;
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-broadcast-'));
  const database = await freshDatabase(kind, dir);
  // The owner's milestone emails are not the broadcast's.
  const smtp = await startSmtpSink({ notCounting: 'bench@example.org' });
  const site = await prepareBenchSite(database.url, 'error', smtp.url);
  let server: ReturnType<typeof site.serve> | undefined;
  try {
    const [{ slug, id }] = (await openPetitionsThenStop(site, database, ['A petition that thanks every signer'])) as [{ slug: string; id: number }];
    await fill(kind, database.url, id, SIGNERS);
    server = site.serve({ worker: true, stdio: ['ignore', 'ignore', 'inherit'] });
    await site.waitUntilUp();
    const res = await fetch(`${site.base}/api/v1/petitions/${slug}/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${site.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'We handed it in: thank you', body: 'The petition was handed in at the meeting.', email_signers: true }),
    });
    if (res.status !== 201) throw new Error(`posting the update: ${res.status} ${await res.text()}`);
    const update = ((await res.json()) as { data: { id: number; email: { total: number } } }).data;
    const total = update.email.total;
    const started = Date.now();
    // The time each tenth of the recipients was reached.
    const tenths: number[] = [];
    let peakRss = 0;
    while (smtp.received() < total && Date.now() - started < TIMEOUT_MS) {
      await new Promise((r) => setTimeout(r, 200));
      while (tenths.length < 10 && smtp.received() >= ((tenths.length + 1) * total) / 10) tenths.push(Date.now() - started);
      peakRss = Math.max(peakRss, rssMb(server.pid));
    }
    const seconds = (Date.now() - started) / 1000;
    const sent = smtp.received();
    const state = ((await (await fetch(`${site.base}/api/v1/petitions/${slug}/updates/${update.id}`, { headers: { authorization: `Bearer ${site.token}` } })).json()) as { data: { email: { sent: number; finished: boolean } } }).data.email;
    const perSecond = (n: number, ms: number) => (ms > 0 ? Math.round(n / (ms / 1000)) : '');
    const exact = sent === total && state.sent === total;
    console.error(`${kind}: broadcast to ${total.toLocaleString('en-GB')} recipients: ${sent.toLocaleString('en-GB')} received in ${seconds.toFixed(0)} s; the site counts ${state.sent} sent${state.finished ? ', finished' : ''} — ${exact ? 'exact' : 'MISMATCH'}`);
    if (!exact) process.exitCode = 1;
    return {
      scenario: `broadcast to every opted-in signer [${kind}]`,
      recipients: total,
      seconds: seconds.toFixed(1),
      'emails/s': perSecond(sent, seconds * 1000),
      'first 10 % /s': tenths.length >= 1 ? perSecond(total / 10, tenths[0]!) : '',
      'last 10 % /s': tenths.length === 10 ? perSecond(total / 10, tenths[9]! - tenths[8]!) : '',
      'peak RSS MB': Math.round(peakRss),
      exact: exact ? 'yes' : 'NO',
    };
  } finally {
    if (server && server.exitCode === null) server.kill('SIGTERM');
    await smtp.stop();
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
