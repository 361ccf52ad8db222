import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { PageTemplate, PublicPageCache } from './page-cache.ts';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { FormSession, signedInSession } from '../../test/helpers/browser-session.ts';
import { createPetition, createUser, signerInput } from '../../test/helpers/factories.ts';
import { signatureEmailKey } from '../lib/email-keys.ts';

describe('the public page cache', () => {
  let t: TestApp;
  let now = Date.parse('2026-11-20T10:00:00Z');
  before(async () => {
    t = await createTestApp('sqlite', { config: { pageCacheMs: 1000 }, overrides: { clock: () => new Date(now) } });
  });
  after(() => t.close());

  const countShown = (html: string) => /<strong data-signature-count="true">([\d,]+)<\/strong>/.exec(html)?.[1];

  it('serves visitors one render per second, each with their own tokens, and the form still works', async () => {
    const { petition, owner } = await createPetition(t.ctx);
    const first = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.equal(countShown(first.body), '0');
    // A confirmation lands; within the second visitors still see the cached page.
    await t.ctx.services.signatures.recordSignature(petition.slug, signerInput({ email: 'cache@example.net' }));
    const row = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey('cache@example.net')).executeTakeFirstOrThrow();
    await t.ctx.services.signatures.confirmSignature(t.ctx.services.signatures.confirmationTokens.sign(row.id));
    now += 500;
    const visitor = new FormSession(t.app);
    const second = await visitor.get(`/petitions/${petition.slug}`);
    assert.equal(countShown(second.body), '0', 'served from the cache');
    const token = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(token(second.body) && token(second.body) !== token(first.body), 'each visitor gets their own CSRF token');
    assert.doesNotMatch(second.body, /__undersign_/, 'no placeholder leaks');
    const signed = await visitor.post(`/petitions/${petition.slug}/sign`, signerInput());
    assert.equal(signed.statusCode, 303, 'the cached form signs');

    // The team always sees the live page; after a second, so does everyone.
    const team = await signedInSession(t.app, owner.email);
    assert.equal(countShown((await team.get(`/petitions/${petition.slug}`)).body), '1');
    now += 600;
    const third = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.equal(countShown(third.body), '1');
    // Each form carries the second it was shown in (one token a second for every visitor).
    const shownAt = (html: string) => Number(/name="form_started" value="(\d+)\./.exec(html)?.[1]);
    assert.equal(shownAt(second.body), Math.floor((now - 600) / 1000));
    assert.equal(shownAt(third.body), Math.floor(now / 1000));
    assert.notEqual(shownAt(third.body), shownAt(second.body));
  });

  it('sends the cached page gzip-compressed to browsers that take it, and the compressed form signs', async () => {
    const { petition } = await createPetition(t.ctx);
    now += 2000;
    await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    const plain = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.equal(plain.headers['content-encoding'], undefined, 'no compression unless asked for');
    assert.equal(plain.headers.vary, 'Accept-Language, Cookie, Accept-Encoding');
    const res = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}`, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.match(String(res.headers.vary), /Accept-Encoding/);
    assert.match(String(res.headers.vary), /Accept-Language/);
    assert.ok(res.rawPayload.length * 2 < plain.rawPayload.length, `${res.rawPayload.length} compressed bytes, ${plain.rawPayload.length} plain`);
    const html = gunzipSync(res.rawPayload).toString();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    assert.notEqual(csrf, /name="_csrf" value="([^"]+)"/.exec(plain.body)![1]);
    assert.doesNotMatch(html, /__undersign_/);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const fields = new URLSearchParams({ ...signerInput({ email: 'gzip@example.net' }), _csrf: csrf });
    const started = /name="form_started" value="([^"]+)"/.exec(html)?.[1];
    if (started) fields.set('form_started', started);
    now += 10_000;
    const signed = await t.app.inject({ method: 'POST', url: `/petitions/${petition.slug}/sign`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: fields.toString() });
    assert.equal(signed.statusCode, 303, signed.body);
  });

  it('renders the confirmation page once a moment per petition, each signer with their own link in it', async () => {
    const { petition } = await createPetition(t.ctx);
    const tokens: string[] = [];
    for (const email of ['first@example.net', 'second@example.net', 'third@example.net']) {
      await t.ctx.services.signatures.recordSignature(petition.slug, signerInput({ email }));
      const row = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(email)).executeTakeFirstOrThrow();
      tokens.push(t.ctx.services.signatures.confirmationTokens.sign(row.id));
    }
    const pages = [];
    for (const token of tokens.slice(0, 2)) {
      const res = await t.app.inject({ method: 'GET', url: `/signatures/confirm?token=${encodeURIComponent(token)}`, headers: { 'accept-encoding': 'gzip' } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      pages.push(gunzipSync(res.rawPayload).toString());
    }
    for (const [i, html] of pages.entries()) {
      assert.match(html, /Thank you/);
      assert.ok(html.includes(`/signatures/confirm?token=${encodeURIComponent(tokens[i]!)}&amp;lang=cy`), 'the language switch keeps this signer’s own link');
      assert.ok(!html.includes(tokens[1 - i]!), 'and no one else’s');
      assert.doesNotMatch(html, /__undersign_/);
    }
    // Closing is seen by the next confirmation at once (the outcome is never cached).
    await t.ctx.db.kysely.updateTable('petitions').set({ state: 'closed' }).where('id', '=', petition.id).execute();
    const late = await t.app.inject({ method: 'GET', url: `/signatures/confirm?token=${encodeURIComponent(tokens[2]!)}` });
    assert.equal(late.statusCode, 409);
  });

  it('renders the "check your email" page once a moment per petition, for every signer through the form', async () => {
    const { petition } = await createPetition(t.ctx);
    now += 2000;
    const first = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/signed?utm_source=newsletter`, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['x-robots-tag'], 'noindex');
    const html = gunzipSync(first.rawPayload).toString();
    assert.match(html, /Check your email/);
    assert.ok(t.ctx.services.pageCache.get(`/petitions/${petition.slug}/signed:en*`), 'kept for the signers after');
    assert.doesNotMatch(html, /utm_source/, 'the kept page links to its own address, not to what a signer came with');
    assert.doesNotMatch(html, /__undersign_/);
    // Within the moment the next signer gets the same page; the language switch still works.
    now += 500;
    const welsh = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/signed?lang=cy` });
    assert.match(welsh.body, /Gwiriwch eich e-bost/, 'one page per language');
  });

  it('renders a petition\'s "where and when" page once a moment per view and language', async () => {
    const { petition } = await createPetition(t.ctx);
    now += 2000;
    const first = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats?map=nowhere&utm_source=paper` });
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /Where and when people signed/);
    assert.ok(t.ctx.services.pageCache.get(`/petitions/${petition.slug}/stats:en*`), 'kept under the view it shows, whatever else the address held');
    assert.doesNotMatch(first.body, /utm_source|nowhere|__undersign_/);
    const byDay = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats?resolution=day` });
    assert.equal(byDay.statusCode, 200);
    assert.ok(t.ctx.services.pageCache.get(`/petitions/${petition.slug}/stats?resolution=day:en*`), 'each view kept apart');
    now += 500;
    const welsh = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats?lang=cy` });
    assert.match(welsh.body, /Ble a phryd y llofnododd pobl/, 'one page per language, in its language');
  });

  it('renders an update\'s page and the feeds once a moment, and an edit made here shows at once', async () => {
    const { petition, owner } = await createPetition(t.ctx);
    const update = await t.ctx.services.updates.post(owner, petition.slug, { title: 'We met the commissioner', body: 'She **listened**.', email_signers: false });
    now += 2000;
    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/updates/${update.id}?utm_source=email` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /She <strong>listened<\/strong>\./);
    assert.ok(t.ctx.services.pageCache.get(`/petitions/${petition.slug}/updates/${update.id}:en*`), 'the update page is kept for the signers after');
    assert.doesNotMatch(page.body, /utm_source|__undersign_/);
    const feed = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/feed.atom`, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(feed.headers['content-type'], 'application/atom+xml; charset=utf-8');
    assert.match(gunzipSync(feed.rawPayload).toString(), /We met the commissioner/);
    assert.ok(t.ctx.services.pageCache.get(`/petitions/${petition.slug}/feed.atom`), 'the feed is kept');
    const siteFeed = await t.app.inject({ method: 'GET', url: '/feed.atom' });
    assert.match(siteFeed.body, /We met the commissioner/);
    // The team's view has the edit buttons: rendered for them, never kept for the public.
    const team = await signedInSession(t.app, owner.email);
    assert.match((await team.get(`/petitions/${petition.slug}/updates/${update.id}`)).body, /\/edit"/);
    assert.doesNotMatch((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/updates/${update.id}` })).body, /\/edit"/);
    // An edit through this process drops the kept pages and feeds at once, within the moment.
    await team.get(`/petitions/${petition.slug}/updates/${update.id}/edit`);
    const edited = await team.post(`/petitions/${petition.slug}/updates/${update.id}/edit`, { title: 'We met the commissioner again', body: 'She **agreed**.' });
    assert.equal(edited.statusCode, 303, edited.body);
    now += 100;
    assert.match((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/updates/${update.id}` })).body, /She <strong>agreed<\/strong>/);
    assert.match((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/feed.atom` })).body, /We met the commissioner again/);
    assert.match((await t.app.inject({ method: 'GET', url: '/feed.atom' })).body, /We met the commissioner again/);
  });

  it('answers the lists of petitions as JSON from one serialisation a moment, searches live, and drops them after a change made here', async () => {
    const { petition, owner } = await createPetition(t.ctx, { input: { title: 'Listed for the JSON readers' } });
    now += 2000;
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/petitions?per_page=100&utm_source=widget' });
    assert.equal(list.statusCode, 200);
    assert.equal(list.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(list.json().data.some((p: { slug: string }) => p.slug === petition.slug));
    assert.ok(t.ctx.services.pageCache.get('/api/v1/petitions?state=open&sort=popular&page=1&per_page=100'), 'kept under the list it is');
    const search = await t.app.inject({ method: 'GET', url: '/api/v1/petitions?q=JSON%20readers' });
    assert.deepEqual(search.json().data.map((p: { slug: string }) => p.slug), [petition.slug]);
    const token = await t.ctx.services.auth.createApiToken(owner);
    const closed = await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/close`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(closed.statusCode, 200, closed.body);
    now += 100;
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/petitions?per_page=100' });
    assert.ok(!after.json().data.some((p: { slug: string }) => p.slug === petition.slug), 'a petition closed here leaves the open list at once');
  });

  it('keeps the privacy notice signers open from the form, but never a signed-in visitor\'s copy', async () => {
    now += 2000;
    const page = await t.app.inject({ method: 'GET', url: '/privacy' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'public, max-age=3600');
    assert.ok(t.ctx.services.pageCache.get('/privacy:en*'), 'kept');
    const user = await createUser(t.ctx);
    const session = await signedInSession(t.app, user.email);
    const theirs = await session.get('/privacy');
    assert.equal(theirs.headers['cache-control'], 'private, no-store');
    assert.match(theirs.body, /action="\/logout"/, 'their menu, with their own sign-out form');
  });

  it('never caches what only some may see', async () => {
    const moderator = await createUser(t.ctx, { role: 'moderator' });
    const { petition } = await createPetition(t.ctx);
    await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.ok(t.ctx.services.pageCache.get(`${petition.slug}:en*`), 'cached while public');
    // Any change made through this process forgets the page at once (others within a second).
    const session = await signedInSession(t.app, moderator.email);
    await session.get(`/petitions/${petition.slug}`);
    assert.equal((await session.post(`/petitions/${petition.slug}/hide`, { reason: 'A court order' })).statusCode, 303);
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).statusCode, 404);
    assert.equal(t.ctx.services.pageCache.get(`${petition.slug}:en*`), null);
  });

  it('lets signing reuse its petition read, but a change made here is seen at once', async () => {
    const { petition, owner } = await createPetition(t.ctx);
    const sign = () => t.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signerInput() });
    assert.equal((await sign()).statusCode, 202);
    // Signing does not drop the cached public page: a pending signature is not on it.
    await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.equal((await sign()).statusCode, 202);
    assert.ok(t.ctx.services.pageCache.get(`${petition.slug}:en*`));
    await t.ctx.services.petitions.closePetition(owner, petition.slug);
    const refused = await sign();
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'petition_closed');
  });

  it('keeps one page per language, so no visitor gets a page in the other language', async () => {
    const translation = { title: 'Cadwch yr uned masnachu pobl ar agor', action: 'Peidiwch â chau’r uned arbenigol.', background: 'Mae’r uned wedi helpu i garcharu masnachwyr.' };
    const { petition } = await createPetition(t.ctx, { input: { translation } });
    const get = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}`, headers });
    for (let round = 0; round < 2; round++) {
      const welsh = await get({ 'accept-language': 'cy-GB,cy;q=0.9' });
      assert.match(welsh.body, /<html lang="cy">/);
      assert.match(welsh.body, /Llofnodi’r ddeiseb hon/);
      assert.match(welsh.body, /<h1>Cadwch yr uned masnachu pobl ar agor<\/h1>/);
      assert.equal(welsh.headers['content-language'], 'cy');
      const english = await get({ 'accept-language': 'en-GB' });
      assert.match(english.body, /<html lang="en-GB">/);
      assert.match(english.body, /Sign this petition/);
      const chosen = await get({ 'accept-language': 'en-GB', cookie: 'undersign_lang=cy' });
      assert.match(chosen.body, /Llofnodi’r ddeiseb hon/, 'a chosen language beats the browser’s');
    }
    assert.ok(t.ctx.services.pageCache.get(`${petition.slug}:cy~`));
    assert.ok(t.ctx.services.pageCache.get(`${petition.slug}:en~`));
    assert.ok(t.ctx.services.pageCache.get(`${petition.slug}:cy`));
  });
});

describe('the public JSON cache', () => {
  let t: TestApp;
  let now = Date.parse('2026-11-20T10:00:00Z');
  before(async () => {
    t = await createTestApp('sqlite', { config: { pageCacheMs: 1000 }, overrides: { clock: () => new Date(now) } });
  });
  after(() => t.close());

  it('answers anonymous readers from one serialisation a second, and token holders live', async () => {
    const { petition, owner } = await createPetition(t.ctx);
    const url = `/api/v1/petitions/${petition.slug}`;
    const first = await t.app.inject({ method: 'GET', url });
    assert.equal(first.json().data.signature_count, 0);
    assert.match(first.headers['content-type'] as string, /^application\/json/);
    await t.ctx.services.signatures.recordSignature(petition.slug, signerInput({ email: 'json@example.net' }));
    const row = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey('json@example.net')).executeTakeFirstOrThrow();
    await t.ctx.services.signatures.confirmSignature(t.ctx.services.signatures.confirmationTokens.sign(row.id));
    assert.equal((await t.app.inject({ method: 'GET', url })).body, first.body, 'the same answer within the second');
    const token = await t.ctx.services.auth.createApiToken(owner, 'live');
    assert.equal((await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })).json().data.signature_count, 1);
    now += 1100;
    assert.equal((await t.app.inject({ method: 'GET', url })).json().data.signature_count, 1);
  });
});

describe('a cached page template', () => {
  const holes = ['@token@', '@timer@'];
  const cases: [string, Record<string, string>][] = [
    ['<p>Hello</p><input value="@token@"><input value="@timer@"><p>Diolch — “thank you”</p>', { '@token@': 'abc.DEF-123', '@timer@': '1795939193.x' }],
    ['@token@ at the start and at the end @timer@', { '@token@': 'T', '@timer@': 'U' }],
    ['no holes at all, only text: ÿ é ✓', {}],
    ['a hole left empty: [@token@] and one used twice: @token@ @timer@', { '@token@': '', '@timer@': 'z'.repeat(300) }],
    ['<main>' + 'A long page with a counter 1,804 and some repetition. '.repeat(2000) + '@token@</main>', { '@token@': 'last' }],
  ];

  it('fills in each visitor\'s values, as plain bytes and as gzip that any gzip reader inflates to the same page', () => {
    for (const [html, values] of cases) {
      const expected = holes.reduce((text, hole) => text.replaceAll(hole, values[hole] ?? ''), html);
      const template = PageTemplate.split(html, holes);
      assert.equal(template.fill(values).toString(), expected);
      const gzipped = template.fillGzip(values);
      assert.equal(gunzipSync(gzipped).toString(), expected, 'gzip body inflates to the filled page (checksum and length included)');
    }
  });

  it('compresses a page to a fraction of its size', () => {
    const html = `<ul>${Array.from({ length: 250 }, (_, i) => `<option value="C${i}">Country number ${i}</option>`).join('')}</ul><input value="@token@">`;
    const gzipped = PageTemplate.split(html, holes).fillGzip({ '@token@': 'x'.repeat(40) });
    assert.ok(gzipped.length * 4 < Buffer.byteLength(html), `${gzipped.length} bytes from ${Buffer.byteLength(html)}`);
  });
});

describe('an expired page', () => {
  it('is rendered again by one caller while the others get the expired copy, for one more interval at most', () => {
    let now = 0;
    const cache = new PublicPageCache(1000, () => now);
    cache.set('p', Buffer.from('old'));
    now = 1500;
    assert.equal(cache.get('p'), null, 'the first caller after expiry renders');
    assert.equal(String(cache.get('p')), 'old', 'the others meanwhile get the expired copy');
    assert.equal(String(cache.get('p')), 'old');
    cache.set('p', Buffer.from('new'));
    assert.equal(String(cache.get('p')), 'new');

    // A render that never finished (it failed): the copy is served until twice the interval old,
    // then nobody gets it.
    now = 2600;
    assert.equal(cache.get('p'), null);
    now = 3400;
    assert.equal(String(cache.get('p')), 'new');
    now = 3600;
    assert.equal(cache.get('p'), null);
    assert.equal(cache.get('p'), null, 'every caller renders until one sets it');
  });

  it('gives up the page rendered longest ago when full, not the one kept first', () => {
    let now = 0;
    const cache = new PublicPageCache(1000, () => now, 2);
    cache.set('viral', Buffer.from('v1'));
    cache.set('other', Buffer.from('o1'));
    now = 1500;
    assert.equal(cache.get('viral'), null);
    cache.set('viral', Buffer.from('v2')); // rendered again: to the back of the line
    cache.set('crawled', Buffer.from('c1')); // "other" goes
    assert.equal(String(cache.get('viral')), 'v2');
    assert.equal(cache.get('other'), null);
  });
});
