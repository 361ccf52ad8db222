import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../../test/helpers/factories.ts';
import { freePort } from '../../../test/helpers/server.ts';
import { addresses, TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { startUndersign, until } from '../../../test/helpers/processes.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';


describeEachDatabase('the web server killed in the middle of a signing burst', (kind) => {
  let smtp: TestSmtpServer;
  let smtpUrl: string;
  let t: TestApp;
  const children: ChildProcess[] = [];

  before(async () => {
    smtp = new TestSmtpServer();
    smtpUrl = await smtp.start();
    t = await createTestApp(kind, { config: { smtpUrl } });
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await t.close();
    await smtp.stop();
  });

  /** `undersign serve`, as production runs it, on the test's database and SMTP server. */
  const startServer = (port: number, withWorker: boolean) =>
    startUndersign(t, ['serve', ...(withWorker ? [] : ['--no-worker'])], children, { PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT: 'off' });

  /** A petition, and `undersign serve` (no worker) up on a free port. */
  const petitionAndServer = async () => {
    const { petition } = await createPetition(t.ctx);
    const port = await freePort();
    const server = startServer(port, false);
    const base = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true, 'the server to start');
    return { petition, server, base };
  };

  it('keeps every acknowledged signature exactly once, and still sends its confirmation', async () => {
    const { petition, server, base } = await petitionAndServer();

    // Thirty signers at a time until the server dies; remember which were acknowledged.
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let n = 0;
    let killed = false;
    const signer = async () => {
      while (!killed || n < 2000) {
        const input = signerInput({ email: `burst${n++}@example.net` });
        try {
          const res = await fetch(`${base}/api/v1/petitions/${petition.slug}/signatures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
          if (res.status === 202) acknowledged.push(input.email);
          else failed.push(input.email);
        } catch {
          failed.push(input.email);
          if (killed) return;
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 30 }, signer));
    await until(() => acknowledged.length >= 150, 'some signatures to be acknowledged');
    server.kill('SIGKILL');
    killed = true;
    await new Promise((r) => server.once('exit', r));
    await burst;
    assert.ok(failed.length > 0, 'the kill interrupted requests in flight');

    // Every acknowledged signature is stored, once.
    const rows = await t.ctx.db.kysely.selectFrom('signatures').select(['email_key']).where('petition_id', '=', petition.id).execute();
    const stored = new Map<string, number>();
    for (const r of rows) stored.set(r.email_key, (stored.get(r.email_key) ?? 0) + 1);
    for (const email of acknowledged) assert.equal(stored.get(signatureEmailKey(email)), 1, `${email} was acknowledged, so it is stored once`);
    assert.ok([...stored.values()].every((c) => c === 1));

    // After a restart, the outbox sends every acknowledged signer their confirmation, once.
    const restarted = startServer(await freePort(), true);
    const confirmations = () => smtp.messages.filter((m) => /confirm/i.test(m.subject ?? ''));
    await until(() => acknowledged.every((email) => confirmations().some((m) => addresses(m).includes(email))), 'every confirmation email', 90_000);
    restarted.kill('SIGTERM');
    await new Promise((r) => restarted.once('exit', r));
    const sent = new Map<string, number>();
    for (const m of confirmations()) for (const a of addresses(m)) sent.set(a, (sent.get(a) ?? 0) + 1);
    for (const email of acknowledged) assert.equal(sent.get(email), 1, `${email} got one confirmation email`);
  });

  it('on SIGTERM (a rolling restart) answers the signers in flight, stores every acknowledged signature, and exits cleanly', async () => {
    const { petition, server, base } = await petitionAndServer();
    const acknowledged: string[] = [];
    const answers = new Map<number, number>();
    let n = 0;
    let stopping = false;
    const signer = async () => {
      while (!stopping) {
        const input = signerInput({ email: `rolling${n++}@example.net` });
        try {
          const res = await fetch(`${base}/api/v1/petitions/${petition.slug}/signatures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
          answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
          if (res.status === 202) acknowledged.push(input.email);
        } catch {
          // Refused or closed: the process has stopped taking connections.
          return;
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 30 }, signer));
    await until(() => acknowledged.length >= 150, 'some signatures to be acknowledged');
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    const killedAt = Date.now();
    server.kill('SIGTERM');
    assert.equal(await exited, 0, 'a clean exit');
    // Not after Fastify's 72-second keep-alive timeout (fastify/fastify#7044; see startServer).
    assert.ok(Date.now() - killedAt < 30_000, `exited ${Date.now() - killedAt} ms after SIGTERM`);
    stopping = true;
    await burst;
    // Only "accepted" or "busy, try again": never a 500.
    assert.deepEqual([...answers.keys()].filter((status) => status !== 202 && status !== 503), [], `answers ${JSON.stringify([...answers])}`);
    const rows = await t.ctx.db.kysely.selectFrom('signatures').select(['email_key']).where('petition_id', '=', petition.id).execute();
    const stored = new Set(rows.map((r) => r.email_key));
    for (const email of acknowledged) assert.ok(stored.has(signatureEmailKey(email)), `${email} was acknowledged, so it is stored`);
  });
});
