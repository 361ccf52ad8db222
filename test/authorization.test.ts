import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient } from './helpers/api.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { signedInSession, type FormSession } from './helpers/browser-session.ts';
import { createPetition, createUser, petitionInput } from './helpers/factories.ts';

/** Every route that reads or changes one petition, as a browser and as an API client would call it. */
const HTML_ROUTES: [method: 'GET' | 'POST', path: string, body?: Record<string, string>][] = [
  ['GET', ''],
  ['GET', '/edit'],
  ['POST', '/edit', { title: 'Hijacked title for this petition', action: 'Hijacked action text', background: 'Hijacked background', target_name: 'Someone' }],
  ['POST', '/submit'],
  ['POST', '/open'],
  ['POST', '/publish'],
  ['POST', '/reject', { reason: 'duplicate' }],
  ['POST', '/close'],
  ['POST', '/hide', { reason: 'because I can' }],
  ['POST', '/unhide'],
  ['GET', '/team'],
  ['POST', '/team/invite', { email: 'attacker@example.org', role: 'owner' }],
  ['POST', '/team/role', { email: 'attacker@example.org', role: 'owner' }],
  ['POST', '/team/remove', { email: 'owner@example.org' }],
];

const API_ROUTES: [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown][] = [
  ['GET', ''],
  ['PATCH', '', petitionInput({ title: 'Hijacked title for this petition' })],
  ['POST', '/submit'],
  ['POST', '/open'],
  ['POST', '/publish'],
  ['POST', '/reject', { reason: 'duplicate' }],
  ['POST', '/close'],
  ['POST', '/hide', { reason: 'because I can' }],
  ['POST', '/unhide'],
  ['GET', '/members'],
  ['POST', '/members', { email: 'attacker@example.org', role: 'owner' }],
  ['PATCH', '/members', { email: 'owner@example.org', role: 'viewer' }],
  ['DELETE', '/members', { email: 'owner@example.org' }],
];

describe('authorisation across every petition route', () => {
  let t: TestApp;
  let slug: string;
  let snapshot: () => Promise<string>;

  before(async () => {
    t = await createTestApp('sqlite', { config: { moderation: true } });
    const owner = await createUser(t.ctx, { email: 'owner@example.org' });
    slug = (await createPetition(t.ctx, { owner, open: false })).petition.slug;
    const viewer = await createUser(t.ctx, { email: 'viewer@example.org' });
    const petitionId = (await t.ctx.services.petitions.getForViewer(slug, owner)).id;
    await t.ctx.db.kysely.insertInto('petition_members').values({ petition_id: petitionId, user_id: viewer.id, role: 'viewer', created_at: new Date().toISOString() }).execute();
    await createUser(t.ctx, { email: 'attacker@example.org' });
    snapshot = async () =>
      JSON.stringify([
        await t.ctx.db.kysely.selectFrom('petitions').selectAll().where('slug', '=', slug).execute(),
        await t.ctx.db.kysely.selectFrom('petition_members').selectAll().orderBy('user_id').execute(),
        await t.ctx.db.kysely.selectFrom('petition_invitations').selectAll().execute(),
      ]);
  });
  after(() => t.close());

  it('gives another campaigner "not found" on every route of a draft, and changes nothing', async () => {
    const before = await snapshot();
    const browser: FormSession = await signedInSession(t.app, 'attacker@example.org');
    for (const [method, suffix, body] of HTML_ROUTES) {
      const url = `/petitions/${slug}${suffix}`;
      const res = method === 'GET' ? await browser.get(url) : await browser.post(url, body ?? {});
      assert.equal(res.statusCode, 404, `${method} ${url} → ${res.statusCode}`);
    }
    const api = apiClient(t.app, await t.ctx.services.auth.createApiToken((await t.ctx.services.users.findByEmail('attacker@example.org'))!));
    for (const [method, suffix, body] of API_ROUTES) {
      const res = await api(method, `/api/v1/petitions/${slug}${suffix}`, body);
      assert.equal(res.statusCode, 404, `${method} API ${suffix} → ${res.statusCode}`);
      assert.equal(res.json().error.code, 'petition_not_found');
    }
    assert.equal(await snapshot(), before);
  });

  it('lets a viewer look but not change anything', async () => {
    const before = await snapshot();
    const browser = await signedInSession(t.app, 'viewer@example.org');
    const allowed = new Set(['GET ', 'GET /team']);
    for (const [method, suffix, body] of HTML_ROUTES) {
      const url = `/petitions/${slug}${suffix}`;
      const res = method === 'GET' ? await browser.get(url) : await browser.post(url, body ?? {});
      const expected = allowed.has(`${method} ${suffix}`) ? 200 : 403;
      assert.equal(res.statusCode, expected, `${method} ${url} → ${res.statusCode}`);
    }
    const api = apiClient(t.app, await t.ctx.services.auth.createApiToken((await t.ctx.services.users.findByEmail('viewer@example.org'))!));
    const apiAllowed = new Set(['GET ', 'GET /members']);
    for (const [method, suffix, body] of API_ROUTES) {
      const res = await api(method, `/api/v1/petitions/${slug}${suffix}`, body);
      // Removing oneself is leaving the team, which a viewer may do; the body here names the owner.
      const expected = apiAllowed.has(`${method} ${suffix}`) ? 200 : 403;
      assert.equal(res.statusCode, expected, `${method} API ${suffix} → ${res.statusCode} ${res.body}`);
    }
    assert.equal(await snapshot(), before);
  });

  it('sends anonymous visitors to sign in (pages) or answers 401/404 (API)', async () => {
    for (const [method, suffix] of HTML_ROUTES) {
      if (method !== 'POST') continue;
      const res = await t.app.inject({ method, url: `/petitions/${slug}${suffix}`, payload: {} });
      assert.equal(res.statusCode, 403, `${suffix}: no CSRF token, no entry`);
    }
    for (const [method, suffix, body] of API_ROUTES) {
      const res = await apiClient(t.app)(method, `/api/v1/petitions/${slug}${suffix}`, body);
      assert.ok([401, 404].includes(res.statusCode), `${method} API ${suffix} → ${res.statusCode}`);
    }
  });
});
