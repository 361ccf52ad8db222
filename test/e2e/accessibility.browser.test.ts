import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { axeViolations as violations, BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createPetition, createUser, DEFAULT_PASSWORD, seedSignatures } from '../helpers/factories.ts';
import { signatureEmailKey } from '../../src/lib/email-keys.ts';

describe('accessibility (axe-core, WCAG 2.2 AA)', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  let browser: Browser;
  let t: TestApp;
  let baseUrl: string;
  let slug: string;
  let updateId: number;

  before(async () => {
    rig = await startBrowserRig({ moderation: true });
    ({ t, browser, baseUrl } = rig);
    const owner = await createUser(t.ctx, { email: 'owner@example.org', role: 'admin' });
    const { petition } = await createPetition(t.ctx, { owner, input: { goal: 100 } });
    slug = petition.slug;
    await seedSignatures(t.ctx, petition.id, 120);
    // Areas, names, populations and boundaries, so the stats page draws its map.
    const geo = new URL('../fixtures/geo/', import.meta.url).pathname;
    for (const file of ['onspd-sample.csv', 'pcon-names.csv', 'pcon-population.csv']) await t.ctx.services.geo.importFile(`${geo}${file}`);
    await t.ctx.services.geo.importBoundaries(`${geo}constituencies.geojson`);
    await t.ctx.services.stats.fold();
    await t.ctx.services.milestones.detect();
    updateId = (await t.ctx.services.updates.post(owner, slug, { title: 'Jailed for 16 years', body: 'A **trafficker** was jailed.' })).id;
    await t.ctx.services.endorsements.add(owner, slug, { kind: 'organisation', name: 'Anti-Slavery International', quote: 'We support it.' });
    await t.ctx.services.press.add(owner, slug, { outlet: 'BBC London', headline: 'Petition handed in', date: '2006-11-16', url: 'https://news.example.org/x' });
  });

  after(() => rig?.close());

  const check = async (page: Page, path: string, prepare?: (page: Page) => Promise<void>) => {
    const response = await page.goto(`${baseUrl}${path}`);
    assert.ok(response, path);
    if (prepare) await prepare(page);
    const found = await violations(page);
    assert.deepEqual(
      found.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`),
      [],
      `${path} has accessibility violations`,
    );
  };

  for (const [language, signButton] of [
    ['en', 'Sign this petition'],
    ['cy', 'Llofnodi’r ddeiseb hon'],
  ] as const) {
    it(`has no violations on public pages in ${language === 'en' ? 'English' : 'Welsh'}, including the signing form’s error state`, async () => {
      const page = await (await browser.newContext({ bypassCSP: true, locale: language === 'cy' ? 'cy-GB' : 'en-GB' })).newPage();
      // The language switch: remembered for every page after (an English-only petition would otherwise open in English).
      await page.goto(`${baseUrl}/?lang=${language}`);
      for (const path of ['/', '/petitions', '/petitions?state=closed', `/petitions/${slug}`, `/petitions/${slug}/updates/${updateId}`, `/petitions/${slug}/stats`, `/petitions/${slug}/stats?map=constituency&measure=per_100k&resolution=hour`, `/petitions/${slug}/stats?map=postcode_area`, `/petitions/${slug}/signed`, '/login', '/signup', '/password/forgot', '/privacy', '/no/such/page']) {
        await check(page, path);
        assert.equal(await page.getAttribute('html', 'lang'), language === 'cy' ? 'cy' : 'en-GB', path);
      }
      await check(page, `/petitions/${slug}`, async (p) => {
        await p.getByRole('button', { name: signButton }).click();
        await p.waitForSelector('.error-summary');
      });
    });
  }

  it('has no violations on the team’s and moderators’ pages', async () => {
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill('owner@example.org');
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');
    for (const path of [
      '/account',
      '/petitions/new',
      `/petitions/${slug}`,
      `/petitions/${slug}/edit`,
      `/petitions/${slug}/team`,
      `/petitions/${slug}/endorsements`,
      `/petitions/${slug}/press`,
      `/petitions/${slug}/handin`,
      `/petitions/${slug}/thanks`,
      `/petitions/${slug}/updates/new`,
      '/admin',
      '/admin/audit',
      '/admin/webhooks',
      '/admin/jobs',
    ]) {
      await check(page, path);
    }
  });
});

describe('keyboard, small screens and zoom', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  let slug: string;

  before(async () => {
    rig = await startBrowserRig();
    slug = (await createPetition(rig.t.ctx)).petition.slug;
  });
  after(() => rig?.close());

  it('signs with the keyboard alone, with a visible focus indicator', async () => {
    const page = await (await rig.browser.newContext({ javaScriptEnabled: false })).newPage();
    await page.goto(`${rig.baseUrl}/petitions/${slug}`);
    // Tab until the name field has focus, as a keyboard user would.
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate('document.activeElement && document.activeElement.id') === 'f-name') break;
    }
    assert.equal(await page.evaluate('document.activeElement.id'), 'f-name');
    const outline = await page.evaluate<string>("getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth");
    assert.match(outline, /^solid [1-9]/, `focus is visible (${outline})`);
    await page.keyboard.type('Kay Board');
    await page.keyboard.press('Tab');
    await page.keyboard.type('kay@example.net');
    await page.keyboard.press('Tab'); // country (United Kingdom already chosen)
    await page.keyboard.press('Tab');
    await page.keyboard.type('SW1A 1AA');
    await page.keyboard.press('Tab'); // public name
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab'); // contact
    await page.keyboard.press('Tab'); // privacy link
    await page.keyboard.press('Tab'); // submit
    await page.keyboard.press('Enter');
    await page.waitForURL('**/signed');
    const row = await rig.t.ctx.db.kysely.selectFrom('signatures').select(['name', 'public_name']).where('email_key', '=', signatureEmailKey('kay@example.net')).executeTakeFirstOrThrow();
    assert.deepEqual(row, { name: 'Kay Board', public_name: 1 });
  });

  it('fits a 320 px screen and 200 % zoom without sideways scrolling', async () => {
    for (const options of [{ viewport: { width: 320, height: 640 } }, { viewport: { width: 640, height: 800 }, deviceScaleFactor: 2 }]) {
      const page = await (await rig.browser.newContext(options)).newPage();
      for (const path of ['/', `/petitions/${slug}`, '/petitions', '/login']) {
        await page.goto(`${rig.baseUrl}${path}`);
        if (options.deviceScaleFactor) await page.evaluate("document.documentElement.style.zoom = '2'");
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        assert.ok(overflow <= 1, `${path} at ${JSON.stringify(options)} scrolls sideways by ${overflow}px`);
      }
    }
  });
});
