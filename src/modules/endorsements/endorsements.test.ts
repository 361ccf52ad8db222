import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { storedSignatureStatus, storedSignatureTimes } from '../../db/dialect.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { FormSession, signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser } from '../../../test/helpers/factories.ts';
import { mailsTo } from '../../../test/helpers/mail.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';

describeEachDatabase('endorsements, press and sharing', (kind) => {
  let t: TestApp;
  let owner: User;
  let petition: Petition;
  let ownerApi: ReturnType<typeof apiClient>;
  let moderatorApi: ReturnType<typeof apiClient>;

  before(async () => {
    t = await createTestApp(kind);
    owner = await createUser(t.ctx);
    ({ petition } = await createPetition(t.ctx, { owner }));
    ownerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(owner));
    moderatorApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(await createUser(t.ctx, { role: 'moderator' })));
  });
  after(() => t.close());

  const url = () => `/api/v1/petitions/${petition.slug}/endorsements`;

  it('adds endorsements grouped by kind in the chosen order, verified by a moderator', async () => {
    const union = await ownerApi('POST', url(), { kind: 'organisation', name: 'Public and Commercial Services Union', quote: 'Our members support this.', url: 'https://www.pcs.org.uk' });
    assert.equal(union.statusCode, 201, union.body);
    const charity = await ownerApi('POST', url(), { kind: 'organisation', name: 'Anti-Slavery International' });
    const am = await ownerApi('POST', url(), { kind: 'person', name: 'Jenny Jones', role: 'Green Party Assembly Member', quote: '<script>alert(1)</script> Keep it open!' });
    assert.equal(am.statusCode, 201);
    const bad = await ownerApi('POST', url(), { kind: 'robot', name: '', url: 'javascript:alert(1)' });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().error.fields?.kind ? 'kind' : bad.json().error.field, 'kind');
    assert.equal((await apiClient(t.app)('POST', url(), { kind: 'person', name: 'Anon' })).statusCode, 401);

    assert.equal((await ownerApi('POST', `${url()}/${union.json().data.id}/verify`)).statusCode, 403);
    const verified = await moderatorApi('POST', `${url()}/${union.json().data.id}/verify`);
    assert.equal(verified.json().data.verified, true);

    // Reorder on the management page: the charity before the union.
    const browser = await signedInSession(t.app, owner.email);
    await browser.get(`/petitions/${petition.slug}/endorsements`);
    assert.equal((await browser.post(`/petitions/${petition.slug}/endorsements/${charity.json().data.id}/move`, { direction: 'up' })).statusCode, 303);
    const list = (await apiClient(t.app)('GET', url())).json().data.map((e: { name: string }) => e.name);
    assert.deepEqual(list, ['Anti-Slavery International', 'Public and Commercial Services Union', 'Jenny Jones']);

    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    const text = textOf(page.body);
    assert.match(text, /Supported by Organisations Anti-Slavery International Public and Commercial Services Union ✓ \( Verified \)/);
    assert.match(text, /People Jenny Jones Green Party Assembly Member/);
    assert.doesNotMatch(page.body, /<script>alert/);
  });

  it('invites an endorser by email to write their own statement', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/endorsements` });
    assert.equal(res.statusCode, 303, 'the management page needs a sign-in');
    const browser = await signedInSession(t.app, owner.email);
    await browser.get(`/petitions/${petition.slug}/endorsements`);
    const invited = await browser.post(`/petitions/${petition.slug}/endorsements/invite`, { kind: 'person', name: 'Claude Moraes', role: 'MEP for London', email: 'mep@example.eu' });
    assert.equal(invited.statusCode, 303);
    assert.doesNotMatch(textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).body), /Claude Moraes/, 'not shown before they answer');

    await t.drainJobs();
    const mail = (await mailsTo(t.ctx, 'mep@example.eu'))[0];
    assert.ok(mail);
    const link = /https?:\/\/[^/\s]+(\/endorse\/\S+)/.exec(mail.text)![1]!;
    const endorser = new FormSession(t.app);
    assert.equal((await endorser.get(link)).statusCode, 200);
    const empty = await endorser.post(link, { quote: '' });
    assert.equal(empty.statusCode, 422);
    const done = await endorser.post(link, { quote: 'Trafficking victims need this unit.' });
    assert.equal(done.statusCode, 303);
    assert.match(textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).body), /Claude Moraes MEP for London Trafficking victims need this unit\./);
    assert.equal((await endorser.get(link)).statusCode, 404, 'the link works once');
  });

  it('keeps "In the news" links', async () => {
    const added = await apiClient(t.app, await t.ctx.services.auth.createApiToken(owner))('POST', `/api/v1/petitions/${petition.slug}/press`, {
      outlet: 'BBC London',
      headline: 'Campaigners hand in trafficking petition at City Hall',
      date: '2006-11-16',
      url: 'https://news.example.org/trafficking',
    });
    assert.equal(added.statusCode, 201, added.body);
    const invalid = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/press`, { outlet: 'X', headline: 'Y', date: 'yesterday', url: 'ftp://x' });
    assert.equal(invalid.statusCode, 422);
    const text = textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).body);
    assert.match(text, /In the news .*Campaigners hand in trafficking petition at City Hall — BBC London, 16 November 2006/);
    assert.match(text, /In the news: BBC London/, 'on the timeline too');
  });

  it('shares: a card image, QR codes for flyers and an embeddable widget', async () => {
    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    // A PNG: the networks' previews (Facebook, X, LinkedIn, WhatsApp) show no SVG.
    assert.match(page.body, new RegExp(`<meta property="og:image" content="http://localhost:3000/petitions/${petition.slug}/card.png"/>`));
    assert.match(page.body, /<meta name="twitter:card" content="summary_large_image"\/>/);
    for (const site of ['wa\\.me', 'facebook\\.com/sharer', 'twitter\\.com/intent', 'bsky\\.app/intent', 'mailto:']) assert.match(page.body, new RegExp(site));

    const card = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/card.svg` });
    assert.equal(card.headers['content-type'], 'image/svg+xml; charset=utf-8');
    assert.match(card.body, /<svg[^>]+width="1200" height="630"/);
    assert.match(card.body, /0 signatures · Sign now/);
    const cardPng = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/card.png` });
    assert.equal(cardPng.statusCode, 200);
    assert.equal(cardPng.headers['content-type'], 'image/png');
    assert.equal(cardPng.headers['cache-control'], 'public, max-age=300');
    const image = cardPng.rawPayload;
    assert.deepEqual([...image.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.deepEqual([image.readUInt32BE(16), image.readUInt32BE(20)], [1200, 630], 'the size previews ask for');
    // Drawn with its text: the Welsh card (another language, other words) is another image.
    const welshPng = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/card.png?lang=cy` });
    assert.equal(welshPng.statusCode, 200);
    assert.ok(image.length > 10_000 && !welshPng.rawPayload.equals(image), 'text drawn in each language');

    const svg = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/qr.svg` });
    assert.match(svg.body, /^<svg/);
    const png = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/qr.png` });
    assert.equal(png.headers['content-type'], 'image/png');
    assert.deepEqual([...png.rawPayload.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    const embed = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/embed` });
    assert.equal(embed.statusCode, 200);
    assert.match(String(embed.headers['content-security-policy']), /frame-ancestors \*/);
    assert.equal(embed.headers['x-frame-options'], undefined);
    assert.match(embed.body, /target="_blank"/);
    const normal = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.match(String(normal.headers['content-security-policy']), /frame-ancestors 'none'/, 'other pages still refuse framing');
    const { petition: draft } = await createPetition(t.ctx, { owner, open: false });
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${draft.slug}/card.svg` })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${draft.slug}/card.png` })).statusCode, 404);
  });

  it('thanks every opted-in signer with a message from the team', async () => {
    const signer = await t.ctx.db.kysely
      .insertInto('signatures')
      .values({ petition_id: petition.id, name: 'Ana', email: 'ana@example.net', email_key: signatureEmailKey('ana@example.net'), country: 'GB', postcode: 'E1 6AN', public_name: 0, contact_opt_in: 1, ...storedSignatureStatus(t.ctx.db.kind, 'confirmed'), ...storedSignatureTimes(t.ctx.db.kind, { created_at: new Date().toISOString(), confirmed_at: new Date().toISOString(), confirmation_requested_at: new Date().toISOString() }) })
      .returning('id')
      .executeTakeFirstOrThrow();
    assert.ok(signer.id);
    const browser = await signedInSession(t.app, owner.email);
    const form = await browser.get(`/petitions/${petition.slug}/thanks`);
    assert.match(textOf(form.body), /Send to 1 signer/);
    const sent = await browser.post(`/petitions/${petition.slug}/thanks`, { subject: 'Thank you from all of us', message: 'Each and every one of you who signed: **thank you**.' });
    assert.equal(sent.statusCode, 303);
    await t.drainJobs();
    const [mail] = await mailsTo(t.ctx, 'ana@example.net');
    assert.equal(mail?.subject, 'Thank you from all of us');
    assert.match(mail!.text, /Each and every one of you who signed/);
    assert.match(mail!.text, /Unsubscribe with one click: http:\/\/localhost:3000\/unsubscribe\//);
  });
});
