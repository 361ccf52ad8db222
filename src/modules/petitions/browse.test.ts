import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser } from '../../../test/helpers/factories.ts';

describeEachDatabase('browsing and searching petitions', (kind) => {
  let t: TestApp;
  const slugs: Record<string, string> = {};

  before(async () => {
    t = await createTestApp(kind);
    const owner = await createUser(t.ctx);
    const make = async (key: string, title: string, extra: { open?: boolean; signatures?: number; close?: boolean } = {}) => {
      const { petition } = await createPetition(t.ctx, { owner, open: extra.open !== false, input: { title } });
      if (extra.signatures) {
        await t.ctx.db.kysely.insertInto('petition_counters').values({ petition_id: petition.id, shard: 0, confirmed_count: extra.signatures }).execute();
      }
      if (extra.close) await t.ctx.services.petitions.closePetition(owner, petition.slug);
      slugs[key] = petition.slug;
    };
    await make('unit', 'Keep the trafficking unit open', { signatures: 1804 });
    await make('library', 'Save Mill Street library', { signatures: 12 });
    await make('bus', 'Bring back the night bus', { signatures: 300 });
    await make('closedOne', 'Stop the closure of the lido', { close: true, signatures: 50 });
    await make('draftOne', 'A draft nobody should see', { open: false });
    for (let i = 0; i < 23; i++) await make(`filler${i}`, `Filler petition number ${i}`);
  });
  after(() => t.close());

  it('lists open petitions, most signed first, with paging', async () => {
    const res = await apiClient(t.app)('GET', '/api/v1/petitions?per_page=2');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(body.data.map((p: { slug: string }) => p.slug), [slugs.unit, slugs.bus]);
    assert.deepEqual(body.page, { number: 1, size: 2, total: 26, total_pages: 13 });
    const page2 = (await apiClient(t.app)('GET', '/api/v1/petitions?per_page=2&page=2')).json();
    assert.deepEqual(page2.data.map((p: { slug: string }) => p.slug)[0], slugs.library);
    const all = (await apiClient(t.app)('GET', '/api/v1/petitions?per_page=100')).json().data.map((p: { slug: string }) => p.slug);
    assert.ok(!all.includes(slugs.draftOne), 'drafts never listed');
    assert.ok(!all.includes(slugs.closedOne));
  });

  it('filters by state and searches title and action', async () => {
    const closed = (await apiClient(t.app)('GET', '/api/v1/petitions?state=closed')).json();
    assert.deepEqual(closed.data.map((p: { slug: string }) => p.slug), [slugs.closedOne]);
    const found = (await apiClient(t.app)('GET', '/api/v1/petitions?q=LIBRARY%20mill')).json();
    assert.deepEqual(found.data.map((p: { slug: string }) => p.slug), [slugs.library]);
    const byAction = (await apiClient(t.app)('GET', '/api/v1/petitions?q=specialist&per_page=1')).json();
    assert.equal(byAction.page.total, 26, 'the factory action text mentions the specialist unit');
    const nothing = (await apiClient(t.app)('GET', `/api/v1/petitions?q=${encodeURIComponent("%' OR 1=1 --")}`)).json();
    assert.equal(nothing.data.length, 0, 'wildcards and quotes are plain text');
  });

  it('finds among open petitions in the order the database lists them, whatever the sort', async () => {
    // Deadlines on some (the "closing" order puts those without one last), one far off.
    const ids = await t.ctx.db.kysely.selectFrom('petitions').select('id').where('state', '=', 'open').orderBy('id').execute();
    for (const [i, { id }] of ids.entries()) {
      if (i % 3 === 0) await t.ctx.db.kysely.updateTable('petitions').set({ deadline: new Date(Date.now() + (10 + (i % 7)) * 86_400_000).toISOString() }).where('id', '=', id).execute();
    }
    const now = new Date().toISOString();
    for (const q of ['e', 'petition', 'THE', 'number 1', 'unit']) {
      for (const sort of ['popular', 'newest', 'closing'] as const) {
        const inMemory = (await t.ctx.services.petitions.listPublic({ q, sort, per_page: 100 })).petitions.map((p) => p.id);
        const { rows, total } = await t.ctx.repositories.petitions.list({ filter: 'open', sort, words: q.split(' ').map((w) => w.toLowerCase()), limit: 100, offset: 0 }, now);
        assert.deepEqual(inMemory, rows.map((r) => r.id), `${q} by ${sort}`);
        assert.equal((await t.ctx.services.petitions.listPublic({ q, sort, per_page: 2, page: 2 })).page.total, total);
      }
    }
  });

  it('refuses nonsense queries with a clear error', async () => {
    for (const [query, field] of [
      ['state=deleted', 'state'],
      ['sort=random', 'sort'],
      ['page=0', 'page'],
      ['per_page=1000', 'per_page'],
    ]) {
      const res = await apiClient(t.app)('GET', `/api/v1/petitions?${query}`);
      assert.equal(res.statusCode, 422, query);
      assert.equal(res.json().error.field, field);
    }
  });

  it('shows the list as a page with tabs, search, sorting and pages', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/petitions?q=night' });
    assert.equal(res.statusCode, 200);
    const text = textOf(res.body);
    assert.match(text, /Open petitions matching “night” \(1\)/);
    assert.match(text, /Bring back the night bus/);
    assert.match(res.body, /aria-current="page"[^>]*>Open|href="[^"]*state=open[^"]*" aria-current="page"/);
    const paged = await t.app.inject({ method: 'GET', url: '/petitions?page=2' });
    assert.match(textOf(paged.body), /Page 2 of 2/);
    assert.match(paged.body, /rel="prev"/);
    const silly = await t.app.inject({ method: 'GET', url: '/petitions?page=abc' });
    assert.equal(silly.statusCode, 200, 'a mangled address falls back to the first page');
  });

  it('shows popular and recent petitions and the site-wide total on the home page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    const text = textOf(res.body);
    assert.match(text, /2,166 signatures confirmed on this site so far/);
    assert.match(text, /Most signed 1\. Keep the trafficking unit open|Most signed Keep the trafficking unit open/);
    assert.doesNotMatch(text, /A draft nobody should see/);
  });
});

describeEachDatabase('the home page and lists, kept for a moment', (kind) => {
  let t: TestApp;
  let now = Date.parse('2026-11-20T10:00:00Z');
  before(async () => {
    t = await createTestApp(kind, { config: { pageCacheMs: 1000 }, overrides: { clock: () => new Date(now) } });
  });
  after(() => t.close());

  const sign = (petitionId: number, n: number) => t.ctx.db.kysely.insertInto('petition_counters').values({ petition_id: petitionId, shard: 1, confirmed_count: n }).onConflict((oc) => oc.columns(['petition_id', 'shard']).doUpdateSet((eb) => ({ confirmed_count: eb('petition_counters.confirmed_count', '+', eb.ref('excluded.confirmed_count')) }))).execute();
  const page = async (url: string) => textOf((await t.app.inject({ method: 'GET', url })).body);

  it('shows every visitor the same home page, lists and embedded widget for a second, drops them at once when a petition is hidden, and never keeps a search', async () => {
    const moderator = apiClient(t.app, await t.ctx.services.auth.createApiToken(await createUser(t.ctx, { role: 'moderator' })));
    const { petition: lido } = await createPetition(t.ctx, { input: { title: 'Reopen the Ashton lido' } });
    const { petition: ferry } = await createPetition(t.ctx, { input: { title: 'Keep the island ferry running' } });
    await sign(lido.id, 1300);
    await sign(ferry.id, 40);
    assert.match(await page('/'), /Reopen the Ashton lido .*1,300 signatures/);
    assert.match(await page('/petitions'), /Reopen the Ashton lido .*1,300 signatures/);
    const total = /([\d,]+) signatures? confirmed on this site so far/;
    const totalBefore = total.exec(await page('/'))?.[1];

    // Signatures confirmed meanwhile show after the second, not before (the site's total later still).
    await sign(lido.id, 504);
    assert.match(await page('/'), /1,300 signatures/);
    assert.match(await page('/petitions?utm_source=newsletter'), /1,300 signatures/, 'the same list, whatever else the address holds');
    now += 1100;
    await page('/'); // the first visitor after the second renders it again; others meanwhile get the copy
    await page('/petitions');
    assert.match(await page('/'), /Reopen the Ashton lido .*1,804 signatures/);
    assert.match(await page('/petitions'), /1,804 signatures/);
    assert.equal(total.exec(await page('/'))?.[1], totalBefore, 'the site\'s total is kept longer');
    now += 31_000;
    await page('/');
    assert.notEqual(total.exec(await page('/'))?.[1], totalBefore);

    // A kept list links to its own address, not to what its first visitor added.
    const res = await t.app.inject({ method: 'GET', url: '/petitions?state=open&utm_source=evil' });
    assert.doesNotMatch(res.body, /utm_source/);
    assert.match(res.body, /href="\/petitions\?lang=cy"/);

    // A news article's embedded widget: the petition read once a second for all its readers.
    const embed = async () => textOf((await t.app.inject({ method: 'GET', url: `/petitions/${lido.slug}/embed` })).body);
    assert.match(await embed(), /1,804 signatures/);
    await sign(lido.id, 6);
    assert.match(await embed(), /1,804 signatures/);
    now += 1100;
    assert.match(await embed(), /1,810 signatures/);

    // Hidden through the site: gone from the home page, lists and embeds at once.
    assert.equal((await moderator('POST', `/api/v1/petitions/${lido.slug}/hide`, { reason: 'Court order 2026/7' })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${lido.slug}/embed` })).statusCode, 404);
    assert.doesNotMatch(await page('/'), /Ashton lido/);
    assert.doesNotMatch(await page('/petitions'), /Ashton lido/);
    assert.doesNotMatch(await page('/petitions?state=open&utm_source=evil'), /Ashton lido/);

    // A search is matched every time (its words are anyone's: no page of results is kept); the
    // petitions it finds are read a moment at a time, as their own pages are.
    assert.match(await page('/petitions?q=ferry'), /island ferry .*40 signatures/);
    await sign(ferry.id, 2);
    assert.match(await page('/petitions?q=ferry'), /island ferry .*40 signatures/);
    assert.match(await page('/petitions?q=island'), /island ferry .*40 signatures/);
    now += 1100;
    assert.match(await page('/petitions?q=ferry'), /island ferry .*42 signatures/);
  });
});
