import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createPetition, createUser, DEFAULT_PASSWORD, seedSignatures } from '../helpers/factories.ts';

describe('the hand-in in a real browser', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  let browser: Browser;
  let t: TestApp;
  let baseUrl: string;

  before(async () => {
    rig = await startBrowserRig();
    ({ t, browser, baseUrl } = rig);
  });

  after(() => rig?.close());

  it('records the delivery and the outcome, which the public then sees', async () => {
    const owner = await createUser(t.ctx, { email: 'owner@example.org', name: 'Claude Moraes' });
    const { petition } = await createPetition(t.ctx, { owner, input: { title: 'Keep the Met human trafficking unit open' } });
    await seedSignatures(t.ctx, petition.id, 1804);

    const team = await (await browser.newContext()).newPage();
    await team.goto(`${baseUrl}/login`);
    await team.getByLabel('Email address').fill(owner.email);
    await team.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await team.getByRole('button', { name: 'Sign in' }).click();
    await team.goto(`${baseUrl}/petitions/${petition.slug}`);
    await team.getByRole('link', { name: 'Hand-in and outcome' }).click();

    await team.getByLabel('When', { exact: true }).fill('2026-11-16');
    await team.getByLabel('Where', { exact: true }).fill('City Hall');
    await team.getByLabel('Received by').fill('the Mayor of London');
    await team.getByLabel('Presented by').fill('Claude Moraes MEP');
    await team.getByRole('button', { name: 'Record the hand-in' }).click();

    await team.getByLabel('Outcome', { exact: true }).selectOption('won');
    await team.getByLabel('Summary').fill('The Authority kept the unit open.');
    await team.getByRole('button', { name: 'Record the outcome' }).click();

    // The team page's links download the pack and the signers' details in the browser.
    const download = async (link: string) => {
      const [file] = await Promise.all([team.waitForEvent('download'), team.getByRole('link', { name: link }).click()]);
      const chunks: Buffer[] = [];
      for await (const chunk of await file.createReadStream()) chunks.push(chunk as Buffer);
      return { name: file.suggestedFilename(), body: Buffer.concat(chunks) };
    };
    const pdf = await download('Hand-in pack (PDF)');
    assert.equal(pdf.name, `${petition.slug}-hand-in.pdf`);
    assert.equal(pdf.body.subarray(0, 5).toString(), '%PDF-');
    const csv = await download('Signers’ details (CSV)');
    assert.equal(csv.name, `${petition.slug}-signatures.csv`);
    const lines = csv.body.toString('utf8').trim().split('\n');
    assert.equal(lines[0], 'name,email,postcode,country,signed_at,confirmed_at,contact_opt_in');
    assert.equal(lines.length, 1805, 'the header and 1,804 signers');

    const visitor = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await visitor.goto(`${baseUrl}/petitions/${petition.slug}`);
    assert.match(await visitor.locator('.banner').first().innerText(), /has been handed in/);
    const record = await visitor.locator('.handin-record').innerText();
    assert.match(record, /Victory/);
    assert.match(record, /Outcome: Won/);
    assert.match(record, /Claude Moraes MEP handed the petition to the Mayor of London with 1,804 signatures/);
    await visitor.goto(`${baseUrl}/petitions?state=victories`);
    assert.ok(await visitor.getByRole('link', { name: 'Keep the Met human trafficking unit open' }).isVisible());
  });
});
