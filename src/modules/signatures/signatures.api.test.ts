import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { anotherProcess, createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { newSignature } from '../../../test/helpers/repositories.ts';
import { CONFIRMATION_JOB } from './signatures.service.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../../test/helpers/factories.ts';
import { confirmationPath, mailsTo } from '../../../test/helpers/mail.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';

describeEachDatabase('signing through the JSON API', (kind) => {
  let t: TestApp;
  let petition: Petition;

  const sign = (slug: string, body: unknown) =>
    t.app.inject({ method: 'POST', url: `/api/v1/petitions/${slug}/signatures`, payload: body as object });
  const count = async (slug: string) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/petitions/${slug}` })).json().data.signature_count as number;

  before(async () => {
    t = await createTestApp(kind);
    ({ petition } = await createPetition(t.ctx));
    await t.drainJobs(); // the petition's own events (webhooks), before the tests count jobs
  });
  after(() => t.close());

  it('accepts a signature pending confirmation, which does not count until confirmed', async () => {
    const signer = signerInput({ postcode: 'sw1a1aa', public_name: true, contact_opt_in: false });
    const res = await sign(petition.slug, signer);
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { data: { status: 'pending_confirmation' } });
    assert.equal(await count(petition.slug), 0);

    assert.equal(await t.drainJobs(), 1);
    const [mail, ...rest] = await mailsTo(t.ctx, signer.email);
    assert.ok(mail, 'a confirmation email was sent');
    assert.equal(rest.length, 0);
    assert.match(mail.subject, /confirm/i);
    assert.match(mail.text, new RegExp(signer.name));

    const confirmed = await t.app.inject({ method: 'GET', url: confirmationPath(mail.text) });
    assert.equal(confirmed.statusCode, 200);
    assert.match(confirmed.body, /Thank you for signing/);
    assert.equal(await count(petition.slug), 1);

    // Following the link again changes nothing.
    const again = await t.app.inject({ method: 'GET', url: confirmationPath(mail.text) });
    assert.equal(again.statusCode, 200);
    assert.equal(await count(petition.slug), 1);

    const row = await t.ctx.db.kysely.selectFrom('signatures').selectAll().where('email_key', '=', signatureEmailKey(signer.email.toLowerCase())).executeTakeFirstOrThrow();
    assert.equal(row.postcode, 'SW1A 1AA', 'postcode normalised');
    assert.equal(row.public_name, 1);
    assert.equal(row.contact_opt_in, 0);
  });

  it('answers a repeat address exactly as a new one, re-sending only while pending', async () => {
    const signer = signerInput();
    const first = await sign(petition.slug, signer);
    const repeat = await sign(petition.slug, { ...signer, email: `  ${signer.email.toUpperCase()} ` });
    assert.equal(repeat.statusCode, first.statusCode);
    assert.equal(repeat.body, first.body);
    const rows = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(signer.email.toLowerCase())).execute();
    assert.equal(rows.length, 1);
    await t.drainJobs();
    assert.equal((await mailsTo(t.ctx, signer.email)).length, 1, 'the immediate repeat does not mail-bomb the address');

    // After confirmation, signing again sends nothing and still answers the same.
    const [mail] = await mailsTo(t.ctx, signer.email);
    await t.app.inject({ method: 'GET', url: confirmationPath(mail!.text) });
    const afterConfirm = await sign(petition.slug, signer);
    assert.equal(afterConfirm.body, first.body);
    await t.drainJobs();
    assert.equal((await mailsTo(t.ctx, signer.email)).length, 1);
  });

  it('names the field at fault', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [signerInput({ name: '' }), 'name'],
      [signerInput({ name: '   ' }), 'name'],
      [signerInput({ name: 'x'.repeat(101) }), 'name'],
      [signerInput({ email: 'not-an-email' }), 'email'],
      [signerInput({ email: undefined }), 'email'],
      [signerInput({ email: ['a@b.c'] }), 'email'],
      [signerInput({ postcode: '' }), 'postcode'],
      [signerInput({ postcode: 'ZZ99 ZZZZ' }), 'postcode'],
      [signerInput({ country: 'Narnia' }), 'country'],
      [signerInput({ country: undefined }), 'country'],
      [signerInput({ public_name: 'perhaps' }), 'public_name'],
      [signerInput({ support_token: 'x'.repeat(201) }), 'support_token'],
      [signerInput({ support_token: 42 }), 'support_token'],
      [signerInput({ challenge: 'x'.repeat(101) }), 'challenge'],
      [signerInput({ challenge_answer: 'x'.repeat(41) }), 'challenge_answer'],
    ];
    for (const [body, field] of cases) {
      const res = await sign(petition.slug, body);
      assert.equal(res.statusCode, 422, `${field}: ${res.body}`);
      assert.equal(res.json().error.code, 'validation_failed');
      assert.equal(res.json().error.field, field, JSON.stringify(body));
    }
  });

  it('does not need a postcode outside the UK', async () => {
    const res = await sign(petition.slug, signerInput({ country: 'fr', postcode: undefined }));
    assert.equal(res.statusCode, 202, res.body);
  });

  it('refuses unknown, draft and closed petitions clearly', async () => {
    const unknown = await sign('no-such-petition', signerInput());
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'petition_not_found');

    const { petition: draft } = await createPetition(t.ctx, { open: false });
    const toDraft = await sign(draft.slug, signerInput());
    assert.equal(toDraft.statusCode, 404, 'drafts are invisible to the public');

    const { petition: closing, owner } = await createPetition(t.ctx);
    await t.ctx.services.petitions.closePetition(owner, closing.slug);
    const toClosed = await sign(closing.slug, signerInput());
    assert.equal(toClosed.statusCode, 409);
    assert.equal(toClosed.json().error.code, 'petition_closed');
    assert.match(toClosed.json().error.message, /closed/);
  });

  it('does not count a confirmation that arrives after the petition closed', async () => {
    const { petition: p, owner } = await createPetition(t.ctx);
    const signer = signerInput();
    await sign(p.slug, signer);
    await t.drainJobs();
    await t.ctx.services.petitions.closePetition(owner, p.slug);
    const [mail] = await mailsTo(t.ctx, signer.email);
    const res = await t.app.inject({ method: 'GET', url: confirmationPath(mail!.text) });
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /closed before your signature was confirmed/);
    assert.equal(await count(p.slug), 0);
  });

  it('rejects forged and malformed confirmation links with 404', async () => {
    for (const token of ['', '1.abc', '1.' + 'A'.repeat(43), '<script>']) {
      const res = await t.app.inject({ method: 'GET', url: `/signatures/confirm?token=${encodeURIComponent(token)}` });
      assert.equal(res.statusCode, 404, token);
      assert.match(res.body, /not valid/);
    }
    const valid = t.ctx.services.signatures.confirmationTokens.sign(987_654);
    assert.equal((await t.app.inject({ method: 'GET', url: `/signatures/confirm?token=${valid}` })).statusCode, 404, 'no such signature');
  });

  it('survives hostile bodies with 4xx answers', async () => {
    const bodies: unknown[] = [
      null,
      [],
      'x',
      42,
      { name: { $gt: '' } },
      { ...signerInput(), name: 'Nul\u0000byte' },
      { ...signerInput(), name: 'Two\nlines' },
      { ...signerInput(), postcode: 'SW1A\u00001AA' },
      { ...signerInput(), country: 'G\u0000' },
    ];
    for (const body of bodies) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/petitions/${petition.slug}/signatures`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${JSON.stringify(body)} → ${res.statusCode}`);
      assert.ok(res.json().error.code);
    }
    const huge = await t.app.inject({
      method: 'POST',
      url: `/api/v1/petitions/${petition.slug}/signatures`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ ...signerInput(), name: 'x'.repeat(2_000_000) }),
    });
    assert.equal(huge.statusCode, 413);
  });

  it('keeps the count exact when hundreds sign and confirm at once', async () => {
    const { petition: viral } = await createPetition(t.ctx);
    const signers = Array.from({ length: 250 }, () => signerInput());
    const responses = await Promise.all(signers.map((s) => sign(viral.slug, s)));
    assert.ok(responses.every((r) => r.statusCode === 202));
    await t.drainJobs();
    const mails = new Map((await t.ctx.devOutbox.list(10_000)).map((m) => [m.to, m.text]));
    const links = signers.map((s) => confirmationPath(mails.get(s.email)!));
    const confirmations = await Promise.all(links.map((url) => t.app.inject({ method: 'GET', url })));
    assert.ok(confirmations.every((r) => r.statusCode === 200));
    const confirmedRows = await t.ctx.repositories.signatures.countConfirmedRows(viral.id);
    assert.equal(confirmedRows, 250);
    assert.equal(await count(viral.slug), confirmedRows);
  });

  it('stores the signatures already on their way to the database when a web process shuts down', async () => {
    // A second web process, as in a rolling restart: its requests were answered up to the point of
    // storing (the signers may have given up waiting); closing must not cut their batch off.
    const other = await anotherProcess(t);
    const signatures = Array.from({ length: 20 }, (_, i) => {
      const email = `rolling-restart-${i}@example.net`;
      return newSignature(petition.id, { email, emailKey: signatureEmailKey(email) });
    });
    const now = new Date();
    const stored = Promise.all(signatures.map((s) => other.ctx.repositories.signatures.recordSignature(s, now, now.toISOString(), CONFIRMATION_JOB)));
    await other.close();
    assert.ok((await stored).every((r) => r.queued));
    for (const s of signatures) assert.equal((await t.ctx.repositories.signatures.findByEmail(s.emailKey)).length, 1, `${s.email} was stored`);
  });
});
