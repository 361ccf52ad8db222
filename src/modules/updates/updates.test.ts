import type { ParsedMail } from 'mailparser';
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser, seedSignatures } from '../../../test/helpers/factories.ts';
import { addresses, TestSmtpServer } from '../../../test/helpers/smtp.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';

/** A header's raw value (mailparser folds List-* headers together, so read the lines). */
function headerOf(mail: ParsedMail, key: string): string | undefined {
  return mail.headerLines.find((h) => h.key === key)?.line.replace(/^[^:]+:\s*/, '');
}

describeEachDatabase('updates emailed to signers', (kind) => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let owner: User;
  let ownerApi: ReturnType<typeof apiClient>;
  let petition: Petition;
  let optedIn: string[];
  let others: string[];

  before(async () => {
    smtp = new TestSmtpServer();
    t = await createTestApp(kind, { config: { smtpUrl: await smtp.start() }, overrides: { workerPollMs: 50 } });
    owner = await createUser(t.ctx);
    ownerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(owner));
    ({ petition } = await createPetition(t.ctx, { owner }));
    optedIn = await seedSignatures(t.ctx, petition.id, 500);
    others = [
      ...(await seedSignatures(t.ctx, petition.id, 20, { contactOptIn: false })),
      ...(await seedSignatures(t.ctx, petition.id, 20, { status: 'pending' })),
      ...(await seedSignatures(t.ctx, petition.id, 20, { unsubscribed: true })),
    ];
    t.ctx.worker.start();
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const finished = async (id: number) => {
    const giveUp = Date.now() + 60_000;
    for (;;) {
      const b = await t.ctx.services.broadcasts.find(id);
      if (b?.finishedAt) return b;
      assert.ok(Date.now() < giveUp, 'the broadcast finished in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('emails an update exactly once to each confirmed, opted-in, subscribed signer, and no one else', async () => {
    const res = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/updates`, {
      title: 'A trafficker jailed for 16 years',
      body: 'Last week a trafficker was **jailed**. Read [the report](https://example.org/report).',
      email_signers: true,
    });
    assert.equal(res.statusCode, 201, res.body);
    const { data } = res.json();
    assert.equal(data.email.total, 500);
    const broadcastId = (await t.ctx.services.broadcasts.listForPetition(petition.id))[0]!.id;
    const done = await finished(broadcastId);
    assert.equal(done.sent, 500);

    const received = smtp.messages.filter((m) => /A trafficker jailed/.test(m.subject ?? ''));
    const counts = new Map<string, number>();
    for (const m of received) for (const a of addresses(m)) counts.set(a, (counts.get(a) ?? 0) + 1);
    assert.equal(received.length, 500);
    for (const email of optedIn) assert.equal(counts.get(email), 1, email);
    for (const email of others) assert.equal(counts.get(email), undefined, `${email} must not be emailed`);

    const sample = received[0]!;
    assert.match(sample.text ?? '', /Last week a trafficker was \*\*jailed\*\*/);
    assert.match(sample.html || '', /<strong>jailed<\/strong>/);
    assert.equal(headerOf(sample, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    assert.match(headerOf(sample, 'list-unsubscribe') ?? '', /^<http:\/\/localhost:3000\/unsubscribe\/[^>]+>$/);
    const progress = (await ownerApi('GET', `/api/v1/petitions/${petition.slug}/updates/${data.id}`)).json().data.email;
    assert.deepEqual(progress, { total: 500, sent: 500, finished: true });
  });

  it('unsubscribes with one click from the List-Unsubscribe header, and stops further emails', async () => {
    const message = smtp.messages.find((m) => /A trafficker jailed/.test(m.subject ?? ''))!;
    const who = addresses(message)[0]!;
    const url = /<(https?:\/\/[^>]+)>/.exec(headerOf(message, 'list-unsubscribe') ?? '')?.[1];
    assert.ok(url, 'List-Unsubscribe carries a URL');
    const path = new URL(url).pathname;
    const res = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(res.statusCode, 200);
    assert.match(textOf(res.body), /You are unsubscribed/);
    const row = await t.ctx.db.kysely.selectFrom('signatures').select(['contact_opt_in', 'unsubscribed_at']).where('email_key', '=', signatureEmailKey(who)).executeTakeFirstOrThrow();
    assert.equal(row.contact_opt_in, 0);
    assert.ok(row.unsubscribed_at);

    const second = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/updates`, { title: 'Thank you all', body: 'We handed it in.', email_signers: true });
    assert.equal(second.json().data.email.total, 499);
    await finished((await t.ctx.services.broadcasts.listForPetition(petition.id))[0]!.id);
    const again = smtp.messages.filter((m) => /Thank you all/.test(m.subject ?? ''));
    assert.equal(again.length, 499);
    assert.ok(!again.some((m) => addresses(m).includes(who)));
    assert.equal((await t.app.inject({ method: 'POST', url: '/unsubscribe/1.forged' })).statusCode, 404);
  });

  it('shows updates on the petition page, newest first, with Markdown rendered inert', async () => {
    await ownerApi('POST', `/api/v1/petitions/${petition.slug}/updates`, {
      title: 'Hostile <script>alert(1)</script>',
      body: '<script>alert(2)</script>\n\n[x](javascript:alert(3)) <img src=x onerror=alert(4)>',
    });
    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.doesNotMatch(page.body, /<script>alert/);
    const titles = [...page.body.matchAll(/<h3><a href="[^"]+\/updates\/\d+">([^<]+)<\/a><\/h3>/g)].map((m) => m[1]);
    assert.equal(titles[0], 'Hostile &lt;script&gt;alert(1)&lt;/script&gt;');
    const id = /\/updates\/(\d+)">Hostile/.exec(page.body)![1];
    const one = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/updates/${id}` });
    assert.equal(one.statusCode, 200);
    assert.doesNotMatch(one.body, /<script>alert|<img|href="javascript/);
    const feed = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/feed.atom` });
    assert.equal(feed.statusCode, 200);
    assert.match(feed.headers['content-type'] as string, /application\/atom\+xml/);
    assert.match(feed.body, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
    assert.match(feed.body, /A trafficker jailed for 16 years/);
    assert.doesNotMatch(feed.body, /<script>/);
    const site = await t.app.inject({ method: 'GET', url: '/feed.atom' });
    assert.match(site.body, /Thank you all/);
  });

  it('lets only owners and editors post, edit and delete updates', async () => {
    const outsider = apiClient(t.app, await t.ctx.services.auth.createApiToken(await createUser(t.ctx)));
    const res = await outsider('POST', `/api/v1/petitions/${petition.slug}/updates`, { title: 'Spam', body: 'Buy now' });
    assert.equal(res.statusCode, 403);
    const invalid = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/updates`, { title: '', body: '' });
    assert.equal(invalid.statusCode, 422);
    assert.equal(invalid.json().error.field, 'title');
    const created = (await ownerApi('POST', `/api/v1/petitions/${petition.slug}/updates`, { title: 'Typo in here', body: 'Text' })).json().data;
    assert.equal((await outsider('PATCH', `/api/v1/petitions/${petition.slug}/updates/${created.id}`, { title: 'Hacked title', body: 'x' })).statusCode, 403);
    const edited = await ownerApi('PATCH', `/api/v1/petitions/${petition.slug}/updates/${created.id}`, { title: 'No typo here', body: 'Text' });
    assert.equal(edited.json().data.title, 'No typo here');
    assert.equal((await ownerApi('DELETE', `/api/v1/petitions/${petition.slug}/updates/${created.id}`)).statusCode, 204);
    assert.equal((await ownerApi('GET', `/api/v1/petitions/${petition.slug}/updates/${created.id}`)).statusCode, 404);
    const { petition: draft } = await createPetition(t.ctx, { owner, open: false });
    const early = await ownerApi('POST', `/api/v1/petitions/${draft.slug}/updates`, { title: 'Too early', body: 'x' });
    assert.equal(early.statusCode, 409);
  });

  it('posts an update with an image from the web form, refusing files that are not images', async () => {
    const browser = await signedInSession(t.app, owner.email);
    await browser.get(`/petitions/${petition.slug}/updates/new`);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e1a0a70000000049454e44ae426082', 'hex');
    const res = await browser.postMultipart(`/petitions/${petition.slug}/updates`, { title: 'At City Hall', body: 'We were there.' }, { name: 'image', filename: 'photo.png', type: 'image/png', bytes: png });
    assert.equal(res.statusCode, 303, res.body);
    const page = await browser.get(res.headers.location!);
    const src = /<img class="update-image" src="(\/uploads\/\d+)"/.exec(page.body)?.[1];
    assert.ok(src);
    const image = await t.app.inject({ method: 'GET', url: src });
    assert.equal(image.headers['content-type'], 'image/png');
    assert.match(String(image.headers['content-security-policy']), /sandbox/);

    await browser.get(`/petitions/${petition.slug}/updates/new`);
    const fake = await browser.postMultipart(`/petitions/${petition.slug}/updates`, { title: 'Not an image', body: 'x' }, { name: 'image', filename: 'evil.png', type: 'image/png', bytes: Buffer.from('<html><script>alert(1)</script>') });
    assert.equal(fake.statusCode, 422);
    assert.match(fake.body, /id="f-image-error"/);
    assert.match(textOf(fake.body), /Use a PNG, JPEG, GIF or WebP image/);
  });
});
