/**
 * Scale-out: two web front ends (one of them a two-process cluster) and two separate job workers
 * share one database. People sign through one front end and confirm through the other; every
 * count is exact and every email goes out exactly once. PostgreSQL is the scale-out database; on
 * SQLite the same runs against one file, as `WORKER=off npm start` beside `npm run worker` does on
 * a single machine.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { describeEachDatabase } from './helpers/db.ts';
import { createPetition, signerInput } from './helpers/factories.ts';
import { confirmationPath } from './helpers/mail.ts';
import { exited, startUndersign, until } from './helpers/processes.ts';
import { freePort } from './helpers/server.ts';
import { addresses, TestSmtpServer } from './helpers/smtp.ts';

const SIGNERS = 200;

describeEachDatabase('several web processes and workers on one database', (kind) => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  const children: ChildProcess[] = [];

  before(async () => {
    smtp = new TestSmtpServer();
    const smtpUrl = await smtp.start();
    t = await createTestApp(kind, { config: { smtpUrl } });
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await t.close();
    await smtp.stop();
  });

  const start = (args: string[], port?: number, metricsPort?: number) =>
    startUndersign(t, args, children, { RATE_LIMIT: 'off', ...(port ? { PORT: String(port), HOST: '127.0.0.1' } : {}), ...(metricsPort ? { METRICS_PORT: String(metricsPort) } : {}) });
  /** The sum of a metric's samples whose labels include `labels`, from a process's (or a cluster's) /metrics. */
  const metric = async (port: number, name: string, labels = '') => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .filter((line) => line.includes(labels))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  };

  it('signs and confirms through different front ends with exact counts and exactly-once emails', async () => {
    const { petition } = await createPetition(t.ctx);
    const [portA, portB] = [await freePort(), await freePort()];
    // Each process (the cluster as one) serves its metrics on a port of its own.
    const metricsPorts = [await freePort(), await freePort(), await freePort(), await freePort()] as const;
    const webA = start(['serve', '--no-worker'], portA, metricsPorts[0]);
    const webB = start(['serve', '--no-worker', '--workers', '2'], portB, metricsPorts[1]);
    const workers = [start(['worker'], undefined, metricsPorts[2]), start(['worker'], undefined, metricsPorts[3])];
    const fronts = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    for (const base of fronts) await until(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true, `${base} to start`);

    // Sign: half through each front end, twenty at a time.
    const emails = Array.from({ length: SIGNERS }, (_, i) => `scale${i}@example.net`);
    for (let i = 0; i < emails.length; i += 20) {
      const statuses = await Promise.all(
        emails.slice(i, i + 20).map((email, j) =>
          fetch(`${fronts[(i + j) % 2]}/api/v1/petitions/${petition.slug}/signatures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signerInput({ email })) }).then((r) => r.status),
        ),
      );
      assert.deepEqual([...new Set(statuses)], [202]);
    }

    // Both workers send; each signer gets one confirmation email.
    const confirmations = () => smtp.messages.filter((m) => /confirm your signature/i.test(m.subject ?? ''));
    await until(() => confirmations().length >= SIGNERS, 'every confirmation email', 90_000);
    await new Promise((r) => setTimeout(r, 500));
    const perAddress = new Map<string, number>();
    for (const m of confirmations()) for (const a of addresses(m)) perAddress.set(a, (perAddress.get(a) ?? 0) + 1);
    assert.equal(perAddress.size, SIGNERS);
    assert.ok([...perAddress.values()].every((n) => n === 1), 'no confirmation email went out twice');

    // Confirm through the other front end; a quarter of the links are followed twice, at once.
    const links = confirmations().map((m) => ({ email: addresses(m)[0]!, path: confirmationPath(m.text ?? '') }));
    const follows = links.flatMap((l, i) => (i % 4 === 0 ? [{ ...l, front: fronts[i % 2]! }, { ...l, front: fronts[(i + 1) % 2]! }] : [{ ...l, front: fronts[(i + 1) % 2]! }]));
    for (let i = 0; i < follows.length; i += 25) {
      const statuses = await Promise.all(follows.slice(i, i + 25).map((f) => fetch(`${f.front}${f.path}`).then((r) => r.status)));
      assert.deepEqual([...new Set(statuses)], [200]);
    }

    const shown = (await (await fetch(`${fronts[0]}/api/v1/petitions/${petition.slug}`)).json()) as { data: { signature_count: number } };
    const rows = await t.ctx.db.kysely.selectFrom('signatures').select((eb) => eb.fn.countAll<number>().as('n')).where('petition_id', '=', petition.id).where('status', '=', 'confirmed').executeTakeFirstOrThrow();
    assert.equal(Number(rows.n), SIGNERS);
    assert.equal(shown.data.signature_count, SIGNERS, 'the displayed count equals the confirmed rows');
    await until(async () => (await t.ctx.repositories.stats.queued()) === 0, 'the workers to fold the tallies', 30_000);
    const areas = await t.ctx.repositories.stats.areaCounts(petition.id);
    assert.equal(areas.filter((a) => a.kind === 'country').reduce((n, a) => n + Number(a.count), 0), SIGNERS, 'per-area sums equal the count');

    // The metrics agree with the database: signatures received and confirmed through the two
    // front ends (the cluster's two processes summed), emails sent by the two workers.
    const [webMetrics, workerMetrics] = [metricsPorts.slice(0, 2), metricsPorts.slice(2)];
    const total = async (ports: readonly number[], name: string, labels = '') => (await Promise.all(ports.map((p) => metric(p, name, labels)))).reduce((a, b) => a + b, 0);
    assert.equal(await total(webMetrics, 'undersign_signatures_received_total'), SIGNERS);
    assert.equal(await total(webMetrics, 'undersign_signatures_confirmed_total'), SIGNERS, 'a link followed twice is confirmed once');
    assert.equal(await total(webMetrics, 'undersign_commit_items_total', 'queue="signing"'), SIGNERS);
    assert.equal(await total(webMetrics, 'undersign_http_requests_total', 'route="/api/v1/petitions/:slug/signatures",status="202"'), SIGNERS);
    assert.equal(await total(workerMetrics, 'undersign_jobs_finished_total', 'kind="signature.send_confirmation",outcome="done"'), SIGNERS);
    assert.equal(await metric(metricsPorts[1], 'undersign_jobs_due', 'kind="signature.send_confirmation"'), 0, 'nothing left to send');
    assert.ok((await metric(metricsPorts[1], 'process_resident_memory_bytes')) > 0, 'Node’s own metrics, summed over the cluster');
    const clusterText = await (await fetch(`http://127.0.0.1:${metricsPorts[1]}/metrics`)).text();
    assert.ok(!clusterText.includes(petition.slug), 'routes are labelled by pattern, never by a petition’s address');

    for (const child of [webA, webB, ...workers]) child.kill('SIGTERM');
    await Promise.all([webA, webB, ...workers].map(exited));
    assert.deepEqual([webA, webB, ...workers].map((c) => c.exitCode), [0, 0, 0, 0], 'every process stops cleanly');
  });
});
