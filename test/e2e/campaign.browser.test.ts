import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createPetition, createUser, DEFAULT_PASSWORD, seedSignatures } from '../helpers/factories.ts';
import { addresses, type TestSmtpServer } from '../helpers/smtp.ts';

describe('campaigning in a real browser', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  let browser: Browser;
  let smtp: TestSmtpServer;
  let t: TestApp;
  let baseUrl: string;

  before(async () => {
    rig = await startBrowserRig();
    ({ t, smtp, browser, baseUrl } = rig);
  });

  after(() => rig?.close());

  it('posts an update, emails it to signers, and shows it on the petition page', async () => {
    const owner = await createUser(t.ctx, { email: 'campaigner@example.org' });
    const { petition } = await createPetition(t.ctx, { owner, input: { title: 'Keep the Met human trafficking unit open' } });
    const [reader] = await seedSignatures(t.ctx, petition.id, 3);

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill(owner.email);
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${baseUrl}/petitions/${petition.slug}`);
    await page.getByRole('link', { name: 'Post an update' }).click();
    await page.getByLabel('Title').fill('A trafficker jailed for 16 years');
    await page.getByLabel('Update', { exact: true }).fill('The unit’s work put a trafficker in prison **for 16 years**.');
    await page.getByLabel(/Email this update to the 3 signers/).check();
    await page.getByRole('button', { name: 'Post update' }).click();

    assert.equal(await page.locator('h1').innerText(), 'A trafficker jailed for 16 years');
    assert.equal(await page.locator('.prose strong').innerText(), 'for 16 years');
    const mail = await smtp.waitFor((m) => addresses(m).includes(reader!));
    assert.match(mail.subject ?? '', /A trafficker jailed for 16 years/);

    await page.goto(`${baseUrl}/petitions/${petition.slug}`);
    assert.equal(await page.locator('.update-list h3').first().innerText(), 'A trafficker jailed for 16 years');
    // The sending is marked finished a moment after the last email goes (the first to arrive may
    // not be the last): the page says so once it is.
    const progress = async () => {
      await page.reload();
      return page.locator('.email-progress').first().innerText();
    };
    let shown = await progress();
    for (let i = 0; i < 50 && !/Emailed to 3 signers/.test(shown); i++) {
      assert.match(shown, /Emailing signers: \d of 3 sent so far/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      shown = await progress();
    }
    assert.match(shown, /Emailed to 3 signers/);
  });
});
