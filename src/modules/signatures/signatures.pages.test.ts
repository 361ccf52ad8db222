import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { FormSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../../test/helpers/factories.ts';
import { confirmationPath, mailsTo } from '../../../test/helpers/mail.ts';
import type { Petition } from '../petitions/petitions.service.ts';

describeEachDatabase('signing on the web, without JavaScript', (kind) => {
  let t: TestApp;
  let petition: Petition;
  let url: string;

  before(async () => {
    t = await createTestApp(kind);
    ({ petition } = await createPetition(t.ctx));
    url = `/petitions/${petition.slug}`;
  });
  after(() => t.close());

  it('shows the petition with a plain HTML signing form, consent boxes unticked', async () => {
    const res = await new FormSession(t.app).get(url);
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    const text = textOf(res.body);
    assert.match(text, new RegExp(petition.title));
    assert.match(text, /What we are asking for/);
    assert.match(text, /0 signatures of 1,500 goal/);
    assert.match(res.body, new RegExp(`<form method="post" action="${url}/sign"`));
    for (const name of ['name', 'email', 'postcode', 'country', 'public_name', 'contact_opt_in', '_csrf']) {
      assert.match(res.body, new RegExp(`name="${name}"`), name);
    }
    assert.doesNotMatch(res.body, /name="public_name"[^>]*checked/);
    assert.doesNotMatch(res.body, /name="contact_opt_in"[^>]*checked/);
    // No JavaScript needed: the one script only refreshes the count while the page is open.
    assert.deepEqual([...res.body.matchAll(/<script[^>]*>/g)].map((m) => m[0]), ['<script src="/static/live-count.js" defer="">']);
    assert.match(res.body, /<meta property="og:title"/);
  });

  it('puts each error next to its field and keeps (escaped) what was typed', async () => {
    const browser = new FormSession(t.app);
    await browser.get(url);
    const res = await browser.post(`${url}/sign`, {
      name: '<script>alert(1)</script>',
      email: 'not-an-email',
      postcode: 'nowhere',
      country: 'GB',
      public_name: 'on',
    });
    assert.equal(res.statusCode, 422);
    assert.match(res.body, /There is a problem/);
    assert.match(res.body, /id="f-email-error"[^>]*>.*Enter an email address like name@example\.com/);
    assert.match(res.body, /id="f-postcode-error"[^>]*>.*Enter a valid UK postcode/);
    assert.match(res.body, /href="#f-email"/, 'summary links to the field');
    assert.match(res.body, /value="&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    assert.doesNotMatch(res.body, /<script>alert/);
    assert.match(res.body, /value="not-an-email"/);
    assert.match(res.body, /name="public_name"[^>]*checked/, 'ticked box stays ticked');
    const rows = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('petition_id', '=', petition.id).execute();
    assert.equal(rows.length, 0);
  });

  it('signs, asks to check email, and confirms through the emailed link', async () => {
    const browser = new FormSession(t.app);
    await browser.get(url);
    const signer = signerInput({ name: 'Zoë Ó Súilleabháin' });
    const res = await browser.post(`${url}/sign`, { ...signer, contact_opt_in: 'on' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${url}/signed`);
    const check = await browser.get(res.headers.location!);
    assert.match(textOf(check.body), /Check your email/);
    assert.doesNotMatch(check.body, new RegExp(signer.email), 'the address is not echoed');

    await t.drainJobs();
    const [mail] = await mailsTo(t.ctx, signer.email);
    assert.ok(mail);
    assert.match(mail.text, /Dear Zoë Ó Súilleabháin/);
    const thanks = await browser.get(confirmationPath(mail.text));
    assert.equal(thanks.statusCode, 200);
    const text = textOf(thanks.body);
    assert.match(text, /Thank you for signing/);
    assert.match(text, /1 signature of 1,500 goal/);
    assert.match(thanks.body, /wa\.me/);
    assert.match(thanks.body, /facebook\.com\/sharer/);
    assert.match(thanks.body, /mailto:\?subject=/);
    assert.match(textOf((await browser.get(url)).body), /1 signature of 1,500 goal/);
  });

  it('answers a repeat signer exactly as a first-time signer', async () => {
    const signer = signerInput();
    const first = new FormSession(t.app);
    await first.get(url);
    const a = await first.post(`${url}/sign`, signer);
    const second = new FormSession(t.app);
    await second.get(url);
    const b = await second.post(`${url}/sign`, { ...signer, email: signer.email.toUpperCase() });
    assert.equal(a.statusCode, b.statusCode);
    assert.equal(a.headers.location, b.headers.location);
    assert.equal(a.body, b.body);
  });

  it('refuses a signature without the CSRF token', async () => {
    const browser = new FormSession(t.app);
    await browser.get(url);
    const res = await browser.post(`${url}/sign`, signerInput(), { csrf: false });
    assert.equal(res.statusCode, 403);
  });

  it('says clearly when a petition is closed or does not exist', async () => {
    const { petition: p, owner } = await createPetition(t.ctx);
    const browser = new FormSession(t.app);
    await browser.get(`/petitions/${p.slug}`);
    await t.ctx.services.petitions.closePetition(owner, p.slug);
    const page = await browser.get(`/petitions/${p.slug}`);
    assert.match(textOf(page.body), /This petition is closed/);
    assert.doesNotMatch(page.body, /action="[^"]*\/sign"/, 'no form on a closed petition');
    const late = await browser.post(`/petitions/${p.slug}/sign`, signerInput());
    assert.equal(late.statusCode, 409);
    assert.match(textOf(late.body), /This petition is closed and no longer accepts signatures/);

    const missing = await browser.get('/petitions/there-is-no-such-petition');
    assert.equal(missing.statusCode, 404);
    assert.match(textOf(missing.body), /There is no petition at this address/);
    const missingSign = await browser.post('/petitions/there-is-no-such-petition/sign', signerInput());
    assert.equal(missingSign.statusCode, 404);
  });

  it('treats a petition past its deadline as closed even before anything closed it', async () => {
    const { petition: p } = await createPetition(t.ctx, { input: { deadline: new Date(Date.now() + 2000).toISOString() } });
    await t.ctx.db.kysely.updateTable('petitions').set({ deadline: new Date(Date.now() - 1000).toISOString() }).where('id', '=', p.id).execute();
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/petitions/${p.slug}` });
    assert.equal(res.json().data.state, 'closed');
    const sign = await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${p.slug}/signatures`, payload: signerInput() });
    assert.equal(sign.statusCode, 409);
  });
});
