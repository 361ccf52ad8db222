import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { FormSession } from '../../../test/helpers/browser-session.ts';
import { createPetition, signerInput } from '../../../test/helpers/factories.ts';
import { solves } from './challenge.ts';

/** Finds an answer the way the browser script does. */
function solve(challenge: string, bits: number): string {
  for (let n = 0; ; n++) if (solves(challenge, String(n), bits)) return String(n);
}

describe('the emergency signing check (proof of work)', () => {
  let t: TestApp;
  let off: TestApp;
  before(async () => {
    t = await createTestApp('sqlite', { config: { signChallenge: 'proof-of-work', signChallengeBits: 8 } });
    off = await createTestApp('sqlite');
  });
  after(async () => {
    await t.close();
    await off.close();
  });

  it('counts leading zero bits', () => {
    let found = 0;
    for (let n = 0; n < 4096; n++) if (solves('x', String(n), 8)) found++;
    assert.ok(found > 4 && found < 40, `about 1 in 256 answers solves 8 bits (${found} of 4096)`);
    assert.ok(!solves('x', solve('x', 8), 30));
  });

  it('is off by default, and the form needs no script', async () => {
    const { petition } = await createPetition(off.ctx);
    const page = await off.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.doesNotMatch(page.body, /name="challenge"|proof-of-work\.js/);
    assert.deepEqual((await off.app.inject({ method: 'GET', url: '/api/v1/signing-challenge' })).json(), { data: { required: false } });
  });

  it('asks API clients and forms for a fresh, solved, unused puzzle', async () => {
    const { petition } = await createPetition(t.ctx);
    const url = `/api/v1/petitions/${petition.slug}/signatures`;
    const missing = await t.app.inject({ method: 'POST', url, payload: signerInput() });
    assert.equal(missing.statusCode, 422);
    assert.equal(missing.json().error.field, 'challenge');
    assert.match(missing.json().error.message, /flooded with automated signatures/);

    const issued = (await t.app.inject({ method: 'GET', url: '/api/v1/signing-challenge' })).json().data;
    assert.equal(issued.required, true);
    assert.equal(issued.bits, 8);
    const wrong = await t.app.inject({ method: 'POST', url, payload: { ...signerInput(), challenge: issued.challenge, challenge_answer: solve(issued.challenge, 8) + 'x' } });
    assert.equal(wrong.statusCode, 422);
    const forged = await t.app.inject({ method: 'POST', url, payload: { ...signerInput(), challenge: '1795920000000001.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', challenge_answer: '1' } });
    assert.equal(forged.statusCode, 422);
    const answer = solve(issued.challenge, 8);
    const ok = await t.app.inject({ method: 'POST', url, payload: { ...signerInput(), challenge: issued.challenge, challenge_answer: answer } });
    assert.equal(ok.statusCode, 202, ok.body);
    const again = await t.app.inject({ method: 'POST', url, payload: { ...signerInput(), challenge: issued.challenge, challenge_answer: answer } });
    assert.equal(again.statusCode, 422);
    assert.match(again.json().error.message, /already used/);

    // The web form carries its own puzzle and the script that solves it.
    const session = new FormSession(t.app);
    const page = await session.get(`/petitions/${petition.slug}`);
    assert.match(page.body, /<script src="\/static\/proof-of-work\.js" defer=""><\/script>/);
    assert.match(page.body, /data-challenge-bits="8"/);
    const challenge = /name="challenge" value="([^"]+)"/.exec(page.body)![1]!;
    const signed = await session.post(`/petitions/${petition.slug}/sign`, { ...signerInput(), challenge, challenge_answer: solve(challenge, 8) });
    assert.equal(signed.statusCode, 303, signed.body.slice(0, 300));
    const unsolved = await session.post(`/petitions/${petition.slug}/sign`, { ...signerInput(), challenge, challenge_answer: '' });
    assert.equal(unsolved.statusCode, 422);
  });
});
