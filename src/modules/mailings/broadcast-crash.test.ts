import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, seedSignatures } from '../../../test/helpers/factories.ts';
import { addresses, TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { startUndersign, until } from '../../../test/helpers/processes.ts';


describeEachDatabase('a worker killed in the middle of emailing signers', (kind) => {
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

  /** A separate worker process, as `npm run worker` starts one, on the same database and SMTP server. */
  const startWorker = () => startUndersign(t, ['worker'], children, { JOB_LOCK_SECONDS: '2' });

  it('resumes after SIGKILL without emailing anyone twice', async () => {
    const { petition, owner } = await createPetition(t.ctx);
    const recipients = new Set(await seedSignatures(t.ctx, petition.id, 300));
    await t.ctx.services.updates.post(owner, petition.slug, { title: 'The hand-in is on Thursday', body: 'Come to City Hall.', email_signers: true });
    const broadcast = (await t.ctx.services.broadcasts.listForPetition(petition.id))[0]!;
    const received = () => smtp.messages.filter((m) => /hand-in is on Thursday/.test(m.subject ?? ''));
    smtp.delayMs = 5;

    const first = startWorker();
    await until(() => received().length >= 60, 'the first worker to send some');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = received().length;
    assert.ok(atKill < 300, `the kill came mid-send (${atKill} sent)`);

    const second = startWorker();
    await until(async () => !!(await t.ctx.services.broadcasts.find(broadcast.id))?.finishedAt, 'the second worker to finish');
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    await new Promise((r) => setTimeout(r, 100));

    const counts = new Map<string, number>();
    for (const m of received()) for (const a of addresses(m)) counts.set(a, (counts.get(a) ?? 0) + 1);
    for (const [address, n] of counts) {
      assert.ok(recipients.has(address), `${address} is a recipient`);
      assert.equal(n, 1, `${address} got the update ${n} times`);
    }
    // Only the messages in flight at the moment of the kill (one round of five at most) may be
    // missing (never resent) or sent without being counted.
    const finished = (await t.ctx.services.broadcasts.find(broadcast.id))!;
    assert.ok(counts.size >= 300 - 5, `${counts.size} of 300 received`);
    assert.ok(finished.sent <= counts.size && counts.size - finished.sent <= 5, `${finished.sent} counted as sent, ${counts.size} received`);
    const left = await t.ctx.db.kysely.selectFrom('broadcast_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('broadcast_id', '=', broadcast.id).executeTakeFirstOrThrow();
    assert.equal(Number(left.n), 0, 'a finished broadcast keeps no delivery rows');
  });
});
