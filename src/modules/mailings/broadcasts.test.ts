import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, seedSignatures } from '../../../test/helpers/factories.ts';
import { addresses, TestSmtpServer } from '../../../test/helpers/smtp.ts';

describeEachDatabase('sending a broadcast to many signers', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  it('reads on from its progress, counts what it sent, and keeps no delivery rows once finished', async () => {
    const { petition, owner } = await createPetition(t.ctx);
    await seedSignatures(t.ctx, petition.id, 130);
    await seedSignatures(t.ctx, petition.id, 20, { contactOptIn: false });
    const repo = t.ctx.repositories.broadcasts;
    const ids = (await t.ctx.db.kysely.selectFrom('signatures').select('id').where('petition_id', '=', petition.id).where('contact_opt_in', '=', 1).orderBy('id').execute()).map((r) => Number(r.id));
    await t.ctx.services.updates.post(owner, petition.slug, { title: 'The hand-in is on Thursday', body: 'Come to City Hall.', email_signers: true });
    const broadcast = (await repo.listForPetition(petition.id))[0]!;
    const { maxSignatureId, progressId } = await repo.progress(broadcast.id);
    assert.deepEqual([maxSignatureId, progressId], [ids.at(-1), 0]);

    // The next recipients are read on from a signature id, not from the first signer.
    const next = await repo.nextRecipients(broadcast, ids[99]!, maxSignatureId, 50);
    assert.deepEqual(next.map((r) => r.signatureId), ids.slice(100, 130));
    // Progress only moves forward; the count adds up.
    await repo.recordSent(broadcast.id, 3, ids[9]!);
    await repo.recordSent(broadcast.id, 2, ids[4]!);
    assert.equal((await repo.progress(broadcast.id)).progressId, ids[9]);
    assert.equal((await repo.find(broadcast.id))!.sent, 5);
    await t.ctx.db.kysely.updateTable('broadcasts').set({ progress_id: 0, sent_count: 0 }).where('id', '=', broadcast.id).execute();

    // The job sends to all 130 (in three batches), once each.
    await t.drainJobs();
    const done = (await repo.find(broadcast.id))!;
    assert.ok(done.finishedAt);
    assert.equal(done.sent, 130);
    assert.equal((await repo.progress(broadcast.id)).progressId, ids.at(-1));
    const outbox = (await t.ctx.devOutbox.list(10_000)).filter((m) => /hand-in is on Thursday/.test(m.subject));
    assert.equal(outbox.length, 130);
    assert.equal(new Set(outbox.map((m) => m.to)).size, 130);
    const rows = await t.ctx.db.kysely.selectFrom('broadcast_deliveries').select('signature_id').where('broadcast_id', '=', broadcast.id).execute();
    assert.deepEqual(rows, [], 'the reservations went with the finish');
    // A worker that ran past its lock cannot reserve anyone again once the broadcast has finished.
    assert.deepEqual(await repo.claimDeliveries(broadcast.id, ids.slice(0, 3), new Date()), new Set());
    assert.deepEqual(await t.ctx.db.kysely.selectFrom('broadcast_deliveries').select('signature_id').where('broadcast_id', '=', broadcast.id).execute(), [], 'nor leave a row');
  });

  it('gives back the recipients the mail server refused, and sends to them on the retry, once each', async () => {
    const smtp = new TestSmtpServer();
    let offset = 0;
    const withSmtp = await createTestApp(kind, { config: { smtpUrl: await smtp.start() }, overrides: { clock: () => new Date(Date.now() + offset) } });
    try {
      const { petition, owner } = await createPetition(withSmtp.ctx);
      const recipients = await seedSignatures(withSmtp.ctx, petition.id, 12);
      await withSmtp.ctx.services.updates.post(owner, petition.slug, { title: 'Decision day', body: 'The board meets at ten.', email_signers: true });
      smtp.failNext = 2;
      await withSmtp.drainJobs();
      const broadcast = (await withSmtp.ctx.repositories.broadcasts.listForPetition(petition.id))[0]!;
      const got = () => smtp.messages.filter((m) => /Decision day/.test(m.subject ?? '')).flatMap((m) => addresses(m));
      assert.ok(got().length < 12, 'the refusals stopped the run');
      assert.equal((await withSmtp.ctx.repositories.broadcasts.find(broadcast.id))!.sent, got().length);
      offset = 2 * 3_600_000;
      await withSmtp.drainJobs();
      const done = (await withSmtp.ctx.repositories.broadcasts.find(broadcast.id))!;
      assert.ok(done.finishedAt);
      assert.equal(done.sent, 12);
      assert.deepEqual(got().sort(), [...recipients].sort(), 'each recipient once');
    } finally {
      await withSmtp.close();
      await smtp.stop();
    }
  });
});
