import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { FormSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../../test/helpers/factories.ts';
import { confirmationPath, mailsTo } from '../../../test/helpers/mail.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';

describeEachDatabase('signers’ privacy and bots', (kind) => {
  let t: TestApp;
  let petition: Petition;
  const count = async () => (await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}`)).json().data.signature_count as number;

  before(async () => {
    t = await createTestApp(kind, { config: { blockedEmailDomains: ['spam.example'], signMinSeconds: 2 } });
    ({ petition } = await createPetition(t.ctx));
  });
  after(() => t.close());

  it('records the consent wording, and lets a signer remove their signature from the email link', async () => {
    const signer = signerInput({ public_name: true, contact_opt_in: false });
    await apiClient(t.app)('POST', `/api/v1/petitions/${petition.slug}/signatures`, signer);
    const row = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(signer.email)).executeTakeFirstOrThrow();
    const [record] = await t.ctx.services.signatures.exportPersonalData(signer.email);
    const consent = record!.consent as { public_name: string | null; contact_opt_in: string | null; at: string };
    assert.equal(consent.public_name, 'Show my name publicly as a supporter');
    assert.equal(consent.contact_opt_in, null);
    assert.equal(consent.at, record!.signed_at, 'given when the signature was');
    assert.equal(record!.ip_address, '127.0.0.1', 'the address it came from, while it is kept');
    assert.equal(record!.language, 'en');

    await t.drainJobs();
    const [mail] = await mailsTo(t.ctx, signer.email);
    await t.app.inject({ method: 'GET', url: confirmationPath(mail!.text) });
    assert.equal(await count(), 1);
    const removePath = /https?:\/\/[^/\s]+(\/signatures\/remove\?token=\S+)/.exec(mail!.text)?.[1];
    assert.ok(removePath, 'the confirmation email carries a removal link');
    const browser = new FormSession(t.app);
    const form = await browser.get(removePath);
    assert.match(textOf(form.body), /Remove your signature/);
    const removed = await browser.post('/signatures/remove', { token: decodeURIComponent(removePath.split('token=')[1]!) });
    assert.equal(removed.statusCode, 200);
    assert.match(textOf(removed.body), /Your signature is removed/);
    assert.equal(await count(), 0);
    assert.equal(await t.ctx.db.kysely.selectFrom('signatures').select('id').where('id', '=', row.id).executeTakeFirst(), undefined, 'the details are gone');
    assert.equal((await browser.post('/signatures/remove', { token: decodeURIComponent(removePath.split('token=')[1]!) })).statusCode, 404);
  });

  it('refuses disposable and blocked email domains with a clear message', async () => {
    for (const email of ['someone@mailinator.com', 'bot@spam.example', 'bot@mail.spam.example']) {
      const res = await apiClient(t.app)('POST', `/api/v1/petitions/${petition.slug}/signatures`, signerInput({ email }));
      assert.equal(res.statusCode, 422, email);
      assert.equal(res.json().error.field, 'email');
    }
  });

  it('answers bots like people but records nothing: the honeypot, and forms sent back too fast', async () => {
    const rows = async () => (await t.ctx.db.kysely.selectFrom('signatures').select('id').where('petition_id', '=', petition.id).execute()).length;
    const before = await rows();
    const bot = new FormSession(t.app);
    await bot.get(`/petitions/${petition.slug}`);
    const trap = await bot.post(`/petitions/${petition.slug}/sign`, { ...signerInput(), website: 'http://spam.example' });
    assert.equal(trap.statusCode, 303);
    assert.equal(trap.headers.location, `/petitions/${petition.slug}/signed`);
    const page = await bot.get(`/petitions/${petition.slug}`);
    const started = /name="form_started" value="([^"]+)"/.exec(page.body)![1]!;
    const fast = await bot.post(`/petitions/${petition.slug}/sign`, { ...signerInput(), form_started: started });
    assert.equal(fast.statusCode, 303);
    const forged = await bot.post(`/petitions/${petition.slug}/sign`, { ...signerInput(), form_started: '1.forged' });
    assert.equal(forged.statusCode, 303);
    assert.equal(await rows(), before, 'nothing recorded');

    await new Promise((r) => setTimeout(r, 2100));
    const person = await bot.post(`/petitions/${petition.slug}/sign`, { ...signerInput(), form_started: started });
    assert.equal(person.statusCode, 303);
    assert.equal(await rows(), before + 1, 'a person who took their time is recorded');
  });

  it('explains how signers’ details are used', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/privacy' });
    assert.equal(res.statusCode, 200);
    assert.match(textOf(res.body), /Remove your signature at any time with the link in your confirmation email/);
  });
});
