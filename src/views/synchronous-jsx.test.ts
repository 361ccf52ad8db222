import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { signedInSession } from '../../test/helpers/browser-session.ts';
import { createPetition, signerInput } from '../../test/helpers/factories.ts';

/** Whether an AsyncLocalStorage has been entered in this process: its async hook then marks every new promise. */
const asyncLocalStorageEntered = () => Object.getOwnPropertySymbols(Promise.resolve()).some((s) => s.description === 'kResourceStore');

describe('rendering pages and emails', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp('sqlite');
  });
  after(() => t.close());

  it('enters no AsyncLocalStorage (its async hooks would tax every promise of the process)', async () => {
    const { petition, owner } = await createPetition(t.ctx);
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/' })).statusCode, 200);
    const team = await signedInSession(t.app, owner.email);
    assert.equal((await team.get(`/petitions/${petition.slug}/stats`)).statusCode, 200);
    await t.ctx.services.signatures.recordSignature(petition.slug, signerInput());
    assert.ok((await t.drainJobs()) >= 1, 'the confirmation email was composed and sent');
    assert.equal(asyncLocalStorageEntered(), false);

    // What the check sees when one is entered, as hono/jsx did for every render.
    const { AsyncLocalStorage } = await import('node:async_hooks');
    new AsyncLocalStorage().run(1, () => {});
    assert.equal(asyncLocalStorageEntered(), true);
  });
});
