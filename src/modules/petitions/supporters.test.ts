import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { FormSession, signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser, signerInput } from '../../../test/helpers/factories.ts';
import { confirmationPath, mailsTo } from '../../../test/helpers/mail.ts';

describeEachDatabase('supporters before moderation (SUPPORTERS_REQUIRED)', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind, { config: { moderation: true, supportersRequired: 2 } });
  });
  after(() => t.close());

  it('gathers supporters through a private link, then reaches the queue with their signatures counted', async () => {
    const owner = await createUser(t.ctx);
    const moderator = await createUser(t.ctx, { role: 'moderator' });
    const { petition } = await createPetition(t.ctx, { owner, open: false });
    await t.ctx.services.petitions.submitPetition(owner, petition.slug);
    assert.equal((await t.ctx.services.petitions.moderationQueue(moderator)).length, 0, 'not in the queue yet');

    const team = await signedInSession(t.app, owner.email);
    const page = await team.get(`/petitions/${petition.slug}`);
    assert.match(textOf(page.body), /It has 0 of the 2 supporters it needs/);
    const link = /value="https?:\/\/[^/"]+(\/petitions\/[^"]+\/support\/[^"]+)"/.exec(page.body)?.[1];
    assert.ok(link, 'the team sees the private link');

    // Without the link, the public cannot see or sign the petition.
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).statusCode, 404);
    const blind = await apiClient(t.app)('POST', `/api/v1/petitions/${petition.slug}/signatures`, signerInput());
    assert.equal(blind.statusCode, 404);
    const forged = await apiClient(t.app)('POST', `/api/v1/petitions/${petition.slug}/signatures`, { ...signerInput(), support_token: '1.AAAA' });
    assert.equal(forged.statusCode, 404);

    for (const n of [1, 2]) {
      const supporter = new FormSession(t.app);
      const form = await supporter.get(link);
      assert.equal(form.statusCode, 200);
      assert.match(textOf(form.body), /You have been asked to support this petition/);
      const signer = signerInput();
      const res = await supporter.post(`/petitions/${petition.slug}/sign`, { ...signer, support_token: decodeURIComponent(link.split('/support/')[1]!) });
      assert.equal(res.statusCode, 303, res.body);
      assert.match(textOf((await supporter.get(res.headers.location!)).body), /Check your email/);
      await t.drainJobs();
      const confirmed = await supporter.get(confirmationPath((await mailsTo(t.ctx, signer.email))[0]!.text));
      assert.equal(confirmed.statusCode, 200);
      assert.match(textOf(confirmed.body), /Thank you for your support/);
      assert.equal((await t.ctx.services.petitions.getById(petition.id))!.signatureCount, n);
    }

    const queue = await t.ctx.services.petitions.moderationQueue(moderator);
    assert.deepEqual(queue.map((p) => p.slug), [petition.slug]);
    const published = await t.ctx.services.petitions.publishPetition(moderator, petition.slug);
    assert.equal(published.signatureCount, 2, 'supporters count once it is open');
    const old = await t.app.inject({ method: 'GET', url: link });
    assert.equal(old.statusCode, 303, 'once published, the private link leads to the public page');
    assert.equal(old.headers.location, `/petitions/${petition.slug}`);
  });
});
