import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createPetition } from '../helpers/factories.ts';
import { addresses, type TestSmtpServer } from '../helpers/smtp.ts';

// The core journey as a member of the public lives it: a phone, no JavaScript, a real mailbox.
describe('signing in a real browser', { skip: BROWSER_SKIP_REASON }, () => {
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

  it('signs on a phone without JavaScript, confirms from the email and sees the count go up', async () => {
    const { petition } = await createPetition(t.ctx, { input: { title: 'Keep the Met human trafficking unit open', goal: 1500 } });
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 375, height: 740 },
      isMobile: true,
      hasTouch: true,
      userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126 Mobile Safari/537.36',
    });
    const page = await context.newPage();
    try {
      const response = await page.goto(`${baseUrl}/petitions/${petition.slug}`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.locator('h1').innerText(), 'Keep the Met human trafficking unit open');
      assert.match(await page.locator('.count').innerText(), /0\s+signatures/);

      // A mistake first: the error appears next to the field and what was typed is kept.
      await page.getByLabel('Full name').fill('Zoë Ó Súilleabháin');
      await page.getByLabel('Email address').fill('zoe@example');
      await page.getByLabel('Postcode').fill('sw1a1aa');
      await page.getByRole('button', { name: 'Sign this petition' }).click();
      assert.match(await page.locator('#f-email-error').innerText(), /Enter an email address like name@example\.com/);
      assert.equal(await page.getByLabel('Full name').inputValue(), 'Zoë Ó Súilleabháin');

      await page.getByLabel('Email address').fill('zoe@example.net');
      await page.getByLabel('Email me about this campaign').check();
      await page.getByRole('button', { name: 'Sign this petition' }).click();
      await page.waitForURL(`**/petitions/${petition.slug}/signed`);
      assert.match(await page.locator('h1').innerText(), /Check your email/);

      const mail = await smtp.waitFor((m) => addresses(m).includes('zoe@example.net'));
      const link = /(http:\/\/\S+\/signatures\/confirm\?token=\S+)/.exec(mail.text ?? '')?.[1];
      assert.ok(link, 'the email has a confirmation link');
      assert.ok(link.startsWith(baseUrl), `link in email: ${link}`);

      await page.goto(link);
      assert.match(await page.locator('h1').innerText(), /Thank you for signing/);
      assert.match(await page.locator('.count').innerText(), /1\s+signature/);
      assert.ok(await page.getByRole('link', { name: /WhatsApp/ }).isVisible());

      await page.goto(`${baseUrl}/petitions/${petition.slug}`);
      assert.match(await page.locator('.count').innerText(), /1\s+signature/);

      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 375, `no sideways scrolling on a phone (page is ${width}px wide)`);
    } finally {
      await context.close();
    }
  });
});
