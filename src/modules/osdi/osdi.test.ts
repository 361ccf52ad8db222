import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { createPetition, createUser, seedSignatures } from '../../../test/helpers/factories.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { storedSignatureTimes } from '../../db/dialect.ts';
import { confirmationPath, mailsTo } from '../../../test/helpers/mail.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';

describe('OSDI for organisers’ CRMs', () => {
  let t: TestApp;
  let owner: User;
  let petition: Petition;
  const hal = (url: string, options: { token?: string; method?: 'GET' | 'POST'; body?: unknown } = {}) =>
    t.app.inject({
      method: options.method ?? 'GET',
      url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.body ? { 'content-type': 'application/hal+json' } : {}) },
      ...(options.body ? { payload: JSON.stringify(options.body) } : {}),
    });

  before(async () => {
    t = await createTestApp('sqlite');
    owner = await createUser(t.ctx);
    ({ petition } = await createPetition(t.ctx, { owner }));
  });
  after(() => t.close());

  it('serves the entry point and petitions in HAL+JSON with the spec’s field names', async () => {
    const entry = await hal('/api/osdi/v1');
    assert.match(String(entry.headers['content-type']), /application\/hal\+json/);
    assert.equal(entry.json()._links['osdi:petitions'].href, 'http://localhost:3000/api/osdi/v1/petitions');
    const list = (await hal('/api/osdi/v1/petitions')).json();
    for (const key of ['total_pages', 'per_page', 'page', 'total_records', '_links', '_embedded']) assert.ok(key in list, key);
    const one = list._embedded['osdi:petitions'].find((p: { title: string }) => p.title === petition.title);
    for (const key of ['identifiers', 'created_date', 'modified_date', 'title', 'description', 'petition_text', 'browser_url', 'total_signatures', 'target', '_links']) {
      assert.ok(key in one, key);
    }
    assert.deepEqual(one.identifiers, [`undersign:${petition.slug}`]);
    assert.equal(one.target[0].name, 'Sir Ian Blair, Commissioner, Metropolitan Police');
    assert.equal(one._links['osdi:record_signature_helper'].href, `http://localhost:3000/api/osdi/v1/petitions/${petition.slug}/signatures`);
  });

  it('records a signature through the helper, confirmed by email, and lists it for the owner only', async () => {
    const res = await hal(`/api/osdi/v1/petitions/${petition.slug}/signatures`, {
      method: 'POST',
      body: { person: { given_name: 'Ana', family_name: 'Organiser', email_addresses: [{ address: 'ana.crm@example.net' }], postal_addresses: [{ postal_code: 'E1 6AN', country: 'GB' }] } },
    });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().status, 'pending_confirmation');
    const invalid = await hal(`/api/osdi/v1/petitions/${petition.slug}/signatures`, { method: 'POST', body: { person: { given_name: 'No email' } } });
    assert.equal(invalid.statusCode, 422);
    await t.drainJobs();
    await t.app.inject({ method: 'GET', url: confirmationPath((await mailsTo(t.ctx, 'ana.crm@example.net'))[0]!.text) });

    const token = await t.ctx.services.auth.createApiToken(owner);
    const signatures = (await hal(`/api/osdi/v1/petitions/${petition.slug}/signatures`, { token })).json();
    assert.equal(signatures.total_records, 1);
    const person = signatures._embedded['osdi:signatures'][0]._embedded['osdi:person'];
    assert.equal(person.given_name, 'Ana');
    assert.equal(person.family_name, 'Organiser');
    assert.equal(person.email_addresses[0].address, 'ana.crm@example.net');
    assert.equal(person.postal_addresses[0].postal_code, 'E1 6AN');
    assert.equal((await hal(`/api/osdi/v1/petitions/${petition.slug}/signatures`)).statusCode, 401);
    const stranger = await t.ctx.services.auth.createApiToken(await createUser(t.ctx));
    assert.equal((await hal(`/api/osdi/v1/petitions/${petition.slug}/signatures`, { token: stranger })).statusCode, 403);
  });
});

describeEachDatabase('OSDI signatures, page after page', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  it('follows `next` from the last signature shown, in confirmation order, each signature once, with the petition\'s count as the total', async () => {
    const owner = await createUser(t.ctx);
    const { petition } = await createPetition(t.ctx, { owner });
    // Confirmed at one moment (ties broken by id), then more later.
    const first = await seedSignatures(t.ctx, petition.id, 30, { prefix: 'early' });
    const later = await seedSignatures(t.ctx, petition.id, 25, { prefix: 'later' });
    await t.ctx.db.kysely.updateTable('signatures').set(storedSignatureTimes(kind, { confirmed_at: '2030-01-01T00:00:00.000Z' })).where('email', 'in', later).execute();
    const token = await t.ctx.services.auth.createApiToken(owner);
    const get = async (url: string) => {
      const res = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const emails = (page: { _embedded: { 'osdi:signatures': { _embedded: { 'osdi:person': { email_addresses: { address: string }[] } } }[] } }) =>
      page._embedded['osdi:signatures'].map((s) => s._embedded['osdi:person'].email_addresses[0]!.address);

    const seen: string[] = [];
    let url: string | null = `/api/osdi/v1/petitions/${petition.slug}/signatures`;
    const pages: unknown[] = [];
    while (url) {
      const page = await get(url);
      assert.equal(page.total_records, 55);
      assert.equal(page.total_pages, 3);
      pages.push(page);
      seen.push(...emails(page));
      url = page._links.next ? new URL(page._links.next.href).pathname + new URL(page._links.next.href).search : null;
      if (url) assert.match(url, /\?page=\d&after=\d+$/);
    }
    assert.deepEqual(seen, [...first, ...later], 'every signature once, the earlier confirmed first');
    assert.equal(pages.length, 3);

    // By number alone (a client jumping ahead), and after a signature that has gone since.
    assert.deepEqual(emails(await get(`/api/osdi/v1/petitions/${petition.slug}/signatures?page=3`)), later.slice(20));
    const gone = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email', '=', first[24]!).executeTakeFirstOrThrow();
    await t.ctx.repositories.signatures.remove(gone.id, new Date());
    assert.deepEqual(emails(await get(`/api/osdi/v1/petitions/${petition.slug}/signatures?page=2&after=${gone.id}`)), [...first.slice(26), ...later.slice(0, 21)]);
  });
});
