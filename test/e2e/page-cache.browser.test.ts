import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allLocalisedPageKeys } from '../../src/views/page-cache.ts';
import { BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createPetition } from '../helpers/factories.ts';
import { addresses } from '../helpers/smtp.ts';

// The other browser tests run with the public page cache off, so that every page shows what was
// just done. Here it is on, as in production: visitors not signed in get pages kept for every
// visitor, compressed, with their own form token filled in, and must still sign.
describe('kept public pages in a real browser', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  // A long moment: the second visitor gets the first one's page however slow the machine.
  before(async () => (rig = await startBrowserRig({ pageCacheMs: 60_000 })));
  after(() => rig?.close());

  it('lets two visitors sign through one kept, compressed page, each with their own token', async () => {
    const { t, smtp, browser, baseUrl } = rig;
    const { petition, owner } = await createPetition(t.ctx, { input: { title: 'Keep the night buses running' } });
    const update = await t.ctx.services.updates.post(owner, petition.slug, { title: 'We met the commissioner', body: 'She **listened**.', email_signers: false });
    const visitors = [await browser.newContext(), await browser.newContext({ javaScriptEnabled: false })];
    try {
      const tokens: string[] = [];
      for (const [i, context] of visitors.entries()) {
        const page = await context.newPage();
        const response = await page.goto(`${baseUrl}/petitions/${petition.slug}`);
        assert.equal(response?.status(), 200);
        assert.equal((await response!.allHeaders())['content-encoding'], 'gzip', 'sent compressed');
        assert.ok(allLocalisedPageKeys(petition.slug).some((key) => t.ctx.services.pageCache.get(key)), 'the page is kept');
        assert.equal(await page.locator('h1').innerText(), 'Keep the night buses running');
        tokens.push(await page.locator('form input[name="_csrf"]').first().inputValue());
        await page.getByLabel('Full name').fill(`Visitor ${i}`);
        await page.getByLabel('Email address').fill(`visitor${i}@example.net`);
        await page.getByLabel('Postcode').fill('SW1A 1AA');
        await page.getByRole('button', { name: 'Sign this petition' }).click();
        await page.waitForURL(`**/petitions/${petition.slug}/signed`);
        assert.match(await page.locator('h1').innerText(), /Check your email/);
        await smtp.waitFor((m) => addresses(m).includes(`visitor${i}@example.net`));

        // The pages a crowd reaches from there, kept the same way.
        await page.goto(`${baseUrl}/petitions/${petition.slug}/stats`);
        assert.match(await page.locator('h1').innerText(), /Where and when people signed/);
        await page.goto(`${baseUrl}/petitions/${petition.slug}/updates/${update.id}`);
        assert.equal(await page.locator('h1').innerText(), 'We met the commissioner');
        assert.equal(await page.locator('.prose strong').innerText(), 'listened');
      }
      assert.notEqual(tokens[0], tokens[1], 'each visitor has their own form token');
      assert.equal((await t.ctx.db.kysely.selectFrom('signatures').select('id').where('petition_id', '=', petition.id).execute()).length, 2, 'both signed');
    } finally {
      for (const context of visitors) await context.close();
    }
  });
});
