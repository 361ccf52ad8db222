import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { axeViolations, BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createPetition, createUser, DEFAULT_PASSWORD, seedSignatures } from '../helpers/factories.ts';

// A big petition's review: its findings are computed by a job; the page says so, and its script
// offers them once ready, without reloading by itself.
describe('fraud review of a big petition in a real browser', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  let slug: string;

  before(async () => {
    // Twenty confirmed signatures make a "big" petition here (200,000 by default).
    rig = await startBrowserRig({ fraudReviewLiveSignatures: 20 });
    await createUser(rig.t.ctx, { email: 'moderator@example.org', name: 'Mo Derator', role: 'moderator' });
    const { petition } = await createPetition(rig.t.ctx);
    slug = petition.slug;
    await seedSignatures(rig.t.ctx, petition.id, 30);
  });
  after(() => rig?.close());

  const noViolations = async (page: Page, what: string) => {
    const found = await axeViolations(page);
    assert.deepEqual(found.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], `${what} has accessibility violations`);
  };

  it('says the findings are being computed, then offers them once the job has kept them', async () => {
    const page = await (await rig.browser.newContext()).newPage();
    await page.goto(`${rig.baseUrl}/login`);
    await page.getByLabel('Email address').fill('moderator@example.org');
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');

    await page.goto(`${rig.baseUrl}/petitions/${slug}/fraud`);
    const status = page.getByRole('status');
    assert.match(await status.innerText(), /The findings for this petition are being computed/);
    await noViolations(page, 'the review while its findings are computed');
    // The moderator starts on the invalidation form meanwhile: nothing reloads under them.
    await page.getByLabel('Email domain').fill('example.net');

    // The worker (polling every 100 ms) computes them; the script notices within a few seconds.
    await page.getByRole('link', { name: 'Show them' }).waitFor({ timeout: 15_000 });
    assert.match(await status.innerText(), /^The findings are ready\. Show them$/);
    assert.equal(await page.getByLabel('Email domain').inputValue(), 'example.net', 'the half-filled form is untouched');
    await page.getByRole('link', { name: 'Show them' }).click();
    await page.getByText(/30 confirmed, 0 waiting for confirmation, 0 invalidated/).waitFor();
    assert.match(await page.locator('#review-state').innerText(), /These findings are as of .* UTC/);
    assert.equal(await page.locator('script[src="/static/review-progress.js"]').count(), 0, 'nothing to wait for');
    await noViolations(page, 'the review with kept findings');

    // "Review again now": the kept findings stay on show while newer ones are computed, then offered.
    // The worker waits until the page has said so: woken at once by the request, it could
    // otherwise compute thirty signatures' findings before the page after the redirect is drawn.
    await rig.t.ctx.worker.stop();
    await page.getByRole('button', { name: 'Review again now' }).click();
    await page.waitForURL('**/fraud?notice=refreshing');
    assert.match(await page.getByRole('status').filter({ hasText: 'Newer findings' }).innerText(), /Newer findings are being computed/);
    rig.t.ctx.worker.start();
    await page.getByRole('link', { name: 'Show them' }).waitFor({ timeout: 15_000 });
    assert.match(await page.locator('[data-review-progress]').innerText(), /^Newer findings are ready\. Show them$/);
  });
});
