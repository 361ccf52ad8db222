import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BROWSER_SKIP_REASON, startBrowserRig, type BrowserRig } from '../helpers/browser.ts';
import { createPetition, signerInput } from '../helpers/factories.ts';
import { signatureEmailKey } from '../../src/lib/email-keys.ts';

describe('the live count in a browser', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  before(async () => {
    rig = await startBrowserRig();
  });
  after(() => rig?.close());

  it('updates the count and the progress bar while the page is open, under the site’s real CSP', async () => {
    const { petition } = await createPetition(rig.t.ctx, { input: { goal: 2 } });
    const page = await (await rig.browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${rig.baseUrl}/petitions/${petition.slug}`);
    assert.equal(await page.textContent('.progress-block .count'), '0 signatures of 2 goal');

    const input = signerInput();
    await rig.t.ctx.services.signatures.recordSignature(petition.slug, input);
    const row = await rig.t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(input.email)).executeTakeFirstOrThrow();
    await rig.t.ctx.services.signatures.confirmSignature(rig.t.ctx.services.signatures.confirmationTokens.sign(row.id));

    await page.locator('[data-signature-count]', { hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await page.textContent('.progress-block .count'), '1 signature of 2 goal');
    assert.equal(await page.getAttribute('[role="progressbar"]', 'aria-valuenow'), '1');
    assert.match((await page.getAttribute('.progress-bar', 'class'))!, /\bw-50\b/);
    assert.deepEqual(errors, [], 'no CSP or script errors');
  });
});

describe('the emergency signing check in a browser', { skip: BROWSER_SKIP_REASON }, () => {
  let rig: BrowserRig;
  before(async () => {
    rig = await startBrowserRig({ signChallenge: 'proof-of-work', signChallengeBits: 12 });
  });
  after(() => rig?.close());

  it('solves the puzzle before sending the form, under the real CSP', async () => {
    const { petition } = await createPetition(rig.t.ctx);
    const page = await (await rig.browser.newContext()).newPage();
    await page.goto(`${rig.baseUrl}/petitions/${petition.slug}`);
    await page.getByLabel('Full name').fill('Pat Puzzle');
    await page.getByLabel('Email address').fill('pat@example.net');
    await page.getByLabel('Postcode').fill('SW1A 1AA');
    await page.getByRole('button', { name: 'Sign this petition' }).click();
    await page.waitForURL('**/signed', { timeout: 20_000 });
    const row = await rig.t.ctx.db.kysely.selectFrom('signatures').select('name').where('email_key', '=', signatureEmailKey('pat@example.net')).executeTakeFirst();
    assert.equal(row?.name, 'Pat Puzzle');
  });
});
