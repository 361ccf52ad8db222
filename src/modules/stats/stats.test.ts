import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition } from '../../../test/helpers/factories.ts';

describeEachDatabase('where and when people signed', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  it('counts signatures by day, district and country, matching the rows', async () => {
    const { petition } = await createPetition(t.ctx);
    const rows = [
      ['2026-11-01T10:00:00.000Z', 'SW1A 1AA', 'GB'],
      ['2026-11-01T23:30:00.000Z', 'SW1A 2AA', 'GB'],
      ['2026-11-02T09:00:00.000Z', 'E1 6AN', 'GB'],
      ['2026-11-04T12:00:00.000Z', null, 'IE'],
    ] as const;
    await t.ctx.db.kysely
      .insertInto('signatures')
      .values(rows.map(([at, postcode, country], i) => ({ petition_id: petition.id, name: `S ${i}`, email: `s${i}@example.net`, email_key: `s${i}@example.net`, postcode, country, public_name: 0, contact_opt_in: 0, status: 'confirmed', created_at: at, confirmed_at: at, confirmation_requested_at: at })))
      .execute();
    await t.ctx.db.kysely.insertInto('signatures').values({ petition_id: petition.id, name: 'Pending', email: 'p@example.net', email_key: 'p@example.net', postcode: 'N1 9GU', country: 'GB', public_name: 0, contact_opt_in: 0, status: 'pending', created_at: '2026-11-03T00:00:00.000Z', confirmation_requested_at: '2026-11-03T00:00:00.000Z' }).execute();

    const res = await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/stats`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      signature_count: 4,
      by_country: [
        { code: 'GB', name: 'United Kingdom', count: 3 },
        { code: 'IE', name: 'Ireland', count: 1 },
      ],
      by_area: { postcode_district: [{ area: 'SW1A', count: 2 }, { area: 'E1', count: 1 }] },
      timeline: [
        { t: '2026-11-01', count: 2, cumulative: 2 },
        { t: '2026-11-02', count: 1, cumulative: 3 },
        { t: '2026-11-04', count: 1, cumulative: 4 },
      ],
    });
    const csv = await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/stats.csv`);
    assert.match(csv.body, /^kind,key,count\ncountry,GB,3\n/);
    assert.match(csv.body, /postcode_district,SW1A,2/);

    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<svg[^>]+role="img"/);
    assert.match(textOf(page.body), /UK postcode districts District Signatures SW1A 2 E1 1/);
    assert.doesNotMatch(page.body, /s0@example\.net|S 0/, 'counts only, never people');

    const { petition: draft } = await createPetition(t.ctx, { open: false });
    assert.equal((await apiClient(t.app)('GET', `/api/v1/petitions/${draft.slug}/stats`)).statusCode, 404);
  });
});
