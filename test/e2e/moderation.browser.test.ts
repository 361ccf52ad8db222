import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createUser, DEFAULT_PASSWORD } from '../helpers/factories.ts';
import { addresses, type TestSmtpServer } from '../helpers/smtp.ts';

// The lifecycle with moderation on: draft → submit → reject → edit → resubmit → publish → found → signed.
describe('moderation journey in a real browser', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  let browser: Browser;
  let smtp: TestSmtpServer;
  let t: TestApp;
  let baseUrl: string;

  before(async () => {
    rig = await startBrowserRig({ moderation: true });
    ({ t, smtp, browser, baseUrl } = rig);
    await createUser(t.ctx, { email: 'campaigner@example.org', name: 'Claude Moraes' });
    await createUser(t.ctx, { email: 'moderator@example.org', name: 'Mo Derator', role: 'moderator' });
  });

  after(() => rig?.close());

  async function signIn(page: Page, email: string) {
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');
  }

  it('takes a petition from draft through rejection and publication to a signature', async () => {
    const campaigner = await (await browser.newContext()).newPage();
    await signIn(campaigner, 'campaigner@example.org');
    await campaigner.getByRole('link', { name: 'Start a petition' }).first().click();
    await campaigner.getByLabel('Title', { exact: true }).fill('Keep the Met’s human trafficking unit open');
    await campaigner.getByLabel('What are you asking for?').fill('Do not close the specialist human trafficking unit.');
    await campaigner.getByLabel('Why does it matter?').fill('A trafficker was jailed for 16 years last week.');
    await campaigner.getByLabel('Name of the decision-maker').fill('Sir Ian Blair');
    await campaigner.getByRole('button', { name: 'Save draft' }).click();
    await campaigner.getByRole('button', { name: 'Submit for moderation' }).click();
    assert.match(await campaigner.locator('.banner').first().innerText(), /Waiting for moderation/);
    const petitionUrl = campaigner.url();

    const moderator = await (await browser.newContext()).newPage();
    await signIn(moderator, 'moderator@example.org');
    await moderator.getByRole('link', { name: 'Moderation' }).click();
    await moderator.getByRole('link', { name: 'Keep the Met’s human trafficking unit open' }).click();
    await moderator.getByLabel('Reason for rejecting').selectOption('not_actionable');
    await moderator.getByLabel('Details for the campaigner').fill('The Police Authority decides, not the Commissioner.');
    await moderator.getByRole('button', { name: 'Reject' }).click();
    assert.match(await moderator.locator('.banner').first().innerText(), /not published/);

    const rejection = await smtp.waitFor((m) => addresses(m).includes('campaigner@example.org') && /not published/.test(m.subject ?? ''));
    assert.match(rejection.text ?? '', /Police Authority decides/);

    await campaigner.goto(petitionUrl);
    assert.match(await campaigner.locator('.banner').first().innerText(), /It asks for something the decision-maker cannot do/);
    await campaigner.getByRole('link', { name: 'Edit' }).first().click();
    await campaigner.getByLabel('Name of the decision-maker').fill('Metropolitan Police Authority');
    await campaigner.getByRole('button', { name: 'Save changes' }).click();
    await campaigner.getByRole('button', { name: 'Submit again' }).click();
    assert.match(await campaigner.locator('.banner').first().innerText(), /Waiting for moderation/);

    await moderator.goto(`${baseUrl}/admin`);
    await moderator.getByRole('link', { name: 'Keep the Met’s human trafficking unit open' }).click();
    await moderator.getByRole('button', { name: 'Publish' }).click();
    await smtp.waitFor((m) => addresses(m).includes('campaigner@example.org') && /is published/.test(m.subject ?? ''));

    const visitor = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await visitor.goto(`${baseUrl}/petitions`);
    await visitor.getByLabel('Search petitions').fill('trafficking');
    await visitor.getByRole('button', { name: 'Search' }).click();
    await visitor.getByRole('link', { name: 'Keep the Met’s human trafficking unit open' }).click();
    assert.match(await visitor.locator('.petition-kicker').innerText(), /Metropolitan Police Authority/);
    await visitor.getByLabel('Full name').fill('Ana Signer');
    await visitor.getByLabel('Email address').fill('ana@example.net');
    await visitor.getByLabel('Postcode').fill('E1 6AN');
    await visitor.getByRole('button', { name: 'Sign this petition' }).click();
    await visitor.waitForURL('**/signed');
    const mail = await smtp.waitFor((m) => addresses(m).includes('ana@example.net'));
    await visitor.goto(/(http:\/\/\S+\/signatures\/confirm\?token=\S+)/.exec(mail.text ?? '')![1]!);
    assert.match(await visitor.locator('.count').innerText(), /1\s+signature/);

    const audit = await t.ctx.repositories.audit.list({ limit: 20 });
    assert.deepEqual(
      audit.map((e) => e.action).reverse(),
      ['petition.created', 'petition.submitted', 'petition.rejected', 'petition.edited', 'petition.submitted', 'petition.published'],
    );
  });
});
