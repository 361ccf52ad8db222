import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { describeEachDatabase } from '../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../test/helpers/factories.ts';
import { confirmationPath } from '../../test/helpers/mail.ts';
import { addresses, TestSmtpServer } from '../../test/helpers/smtp.ts';
import { createLogger } from '../context.ts';

describeEachDatabase('confirmation email over real SMTP', (kind) => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let clockOffsetMs = 0;
  const logged: string[] = [];

  before(async () => {
    smtp = new TestSmtpServer();
    const smtpUrl = await smtp.start();
    t = await createTestApp(kind, {
      config: { smtpUrl, mailFrom: 'Keep the Unit <petitions@undersign.test>' },
      overrides: { workerPollMs: 50, clock: () => new Date(Date.now() + clockOffsetMs), log: createLogger({ logLevel: 'warn' }, { write: (line: string) => void logged.push(line) }) },
    });
    t.ctx.worker.start();
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  it('delivers the confirmation through the running worker; its link confirms the signature', async () => {
    const { petition } = await createPetition(t.ctx);
    const signer = signerInput({ name: 'Łukasz Nowak' });
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signer });
    assert.equal(res.statusCode, 202);

    const mail = await smtp.waitFor((m) => addresses(m).includes(signer.email));
    assert.equal(mail.from?.value[0]?.address, 'petitions@undersign.test');
    // A Message-ID of the sender's domain (spam filters look for one), new for every email.
    assert.match(mail.messageId ?? '', /^<[0-9a-f-]{36}@undersign\.test>$/);
    assert.ok(smtp.messages.filter((m) => m.messageId === mail.messageId).length === 1, 'unique Message-ID');
    assert.match(mail.subject ?? '', /Please confirm your signature/);
    assert.match(mail.text ?? '', /Dear Łukasz Nowak/);
    assert.equal(t.ctx.config.smtpUrl?.startsWith('smtp://'), true);

    const link = confirmationPath(mail.text ?? '');
    const confirmed = await t.app.inject({ method: 'GET', url: link });
    assert.equal(confirmed.statusCode, 200);
    const after = await t.app.inject({ method: 'GET', url: `/api/v1/petitions/${petition.slug}` });
    assert.equal(after.json().data.signature_count, 1);
    assert.equal(smtp.to(signer.email).length, 1, 'exactly one email');
  });

  it('keeps the email queued when the SMTP server refuses it, and sends it on a later attempt', async () => {
    await t.ctx.worker.stop();
    const { petition } = await createPetition(t.ctx);
    await t.drainJobs(); // the petition's own events (webhooks), before the signature's
    const signer = signerInput();
    smtp.failNext = 1;
    await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signer });
    assert.equal(await t.drainJobs(), 1);
    assert.equal(smtp.to(signer.email).length, 0);
    const job = await t.ctx.db.kysely.selectFrom('jobs').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(job.state, 'pending', 'waiting to retry, not lost');
    assert.equal(job.attempts, 1);
    assert.match(job.last_error ?? '', /try again later/);

    assert.equal(await t.drainJobs(), 0, 'not retried before its backoff');
    clockOffsetMs += 10 * 60_000;
    assert.equal(await t.drainJobs(), 1);
    await smtp.waitFor((m) => addresses(m).includes(signer.email));
    assert.equal(smtp.to(signer.email).length, 1);
    assert.equal(await t.ctx.db.kysely.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirst(), undefined, 'sent: its job is gone');
  });

  it('keeps the address a relay refuses out of the log and out of the job\'s last error, which keep the reason', async () => {
    const { petition } = await createPetition(t.ctx);
    await t.drainJobs();
    const signer = signerInput({ email: 'No.Such.Person@example.net' });
    smtp.rejected.add(signer.email.toLowerCase());
    await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signer });
    assert.equal(await t.drainJobs(), 1);
    const job = await t.ctx.db.kysely.selectFrom('jobs').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(job.state, 'pending');
    assert.match(job.last_error ?? '', /550 5\.1\.1 <…@example\.net>: Recipient address rejected/);
    const failure = logged.map((l) => JSON.parse(l) as { msg: string; err?: string }).find((l) => l.msg === 'job failed' && /Recipient address rejected/.test(l.err ?? ''));
    assert.ok(failure, 'the failure is logged');
    assert.ok(!/no\.such\.person/i.test(logged.join('\n') + (job.last_error ?? '')), 'without the address');
  });
});
