import { gunzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { postcodeDistrict, utcHour } from '../../db/dialect.ts';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../../test/helpers/factories.ts';
import { ONS_AREA_KINDS } from './stats.repository.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';

const FIXTURES = new URL('../../../test/fixtures/geo/', import.meta.url).pathname;

describeEachDatabase('where and when people signed', (kind) => {
  let t: TestApp;
  let now = new Date('2026-11-01T10:15:00.000Z');
  before(async () => {
    t = await createTestApp(kind, { overrides: { clock: () => now } });
  });
  after(() => t.close());

  /** Signs and confirms through the service, as a signer following the email link would. */
  async function signAndConfirm(slug: string, input: Record<string, unknown>): Promise<number> {
    await t.ctx.services.signatures.recordSignature(slug, input);
    const row = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(String(input.email).toLowerCase())).orderBy('id', 'desc').executeTakeFirstOrThrow();
    await t.ctx.services.signatures.confirmSignature(t.ctx.services.signatures.confirmationTokens.sign(row.id));
    return row.id;
  }

  /** The per-area and per-hour counts as a full scan of the signature rows would give them. */
  async function countsFromRows(petitionId: number) {
    const db = t.ctx.db;
    const confirmed = db.kysely.selectFrom('signatures').where('petition_id', '=', petitionId).where('status', '=', 'confirmed');
    const expected = new Map<string, number>();
    for (const r of await confirmed.select(['country', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('country').execute()) expected.set(`country:${r.country}`, Number(r.n));
    const district = postcodeDistrict(db.kind, 'postcode');
    for (const r of await confirmed.select([district.as('d'), (eb) => eb.fn.countAll<number>().as('n')]).where('country', '=', 'GB').where('postcode', 'is not', null).groupBy(district).execute()) {
      expected.set(`postcode_district:${r.d}`, Number(r.n));
    }
    // Each signature's areas, through its set (a join the counts never make).
    for (const k of ONS_AREA_KINDS) {
      const rows = await confirmed
        .innerJoin('area_sets as a', 'a.id', 'signatures.area_set_id')
        .select([`a.${k} as code`, (eb) => eb.fn.countAll<number>().as('n')])
        .where(`a.${k}`, 'is not', null)
        .groupBy(`a.${k}`)
        .execute();
      for (const r of rows) expected.set(`${k}:${r.code}`, Number(r.n));
    }
    const hour = utcHour(db.kind, 'confirmed_at');
    for (const r of await confirmed.select([hour.as('h'), (eb) => eb.fn.countAll<number>().as('n')]).groupBy(hour).execute()) expected.set(`hour:${r.h}`, Number(r.n));
    return expected;
  }

  async function countsKept(petitionId: number) {
    const kept = new Map<string, number>();
    for (const r of await t.ctx.repositories.stats.areaCounts(petitionId)) kept.set(`${r.kind}:${r.code}`, Number(r.count));
    for (const r of await t.ctx.repositories.stats.hourlyCounts(petitionId)) kept.set(`hour:${r.hour}`, Number(r.count));
    return kept;
  }

  it('keeps area and hourly counts incrementally, exactly matching the rows after concurrent signing and removals', async () => {
    const { petition } = await createPetition(t.ctx);
    const places = [
      { postcode: 'SW1A 1AA', country: 'GB' },
      { postcode: 'sw1a 2aa', country: 'GB' },
      { postcode: 'E1 6AN', country: 'GB' },
      { postcode: 'CF10 1EP', country: 'GB' },
      { country: 'IE' },
      { country: 'FR' },
    ];
    const ids: number[] = [];
    for (const hour of [10, 11, 14]) {
      now = new Date(`2026-11-01T${hour}:20:00.000Z`);
      // Confirmations racing each other, as under load.
      ids.push(...(await Promise.all(Array.from({ length: 12 }, (_, i) => signAndConfirm(petition.slug, signerInput(places[i % places.length]!))))));
    }
    await t.ctx.services.signatures.removeSignature(t.ctx.services.signatures.removalTokens.sign(ids[0]!));
    await t.ctx.services.signatures.removeSignature(t.ctx.services.signatures.removalTokens.sign(ids[30]!));
    // A pending signature counts nowhere.
    await t.ctx.services.signatures.recordSignature(petition.slug, signerInput({ postcode: 'N1 9GU' }));

    assert.ok((await t.ctx.repositories.stats.queued()) > 0, 'confirmations queue their tally');
    await t.ctx.services.stats.fold();
    assert.equal(await t.ctx.repositories.stats.queued(), 0);
    const expected = await countsFromRows(petition.id);
    assert.deepEqual(Object.fromEntries([...(await countsKept(petition.id))].sort()), Object.fromEntries([...expected].sort()));
    assert.equal(expected.get('country:GB'), 22);
    assert.equal(expected.get('postcode_district:SW1A'), 10);

    // A rebuild from the rows gives the same counts.
    await t.ctx.repositories.stats.rebuild(petition.id);
    assert.deepEqual(Object.fromEntries([...(await countsKept(petition.id))].sort()), Object.fromEntries([...expected].sort()));

    const res = await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/stats`);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.signature_count, 34);
    assert.deepEqual(body.by_country.map((c: { code: string; count: number }) => [c.code, c.count]), [['GB', 22], ['FR', 6], ['IE', 6]]);
    assert.deepEqual(body.by_area.postcode_area.map((a: { code: string; name: string; count: number }) => [a.code, a.name, a.count]), [['SW', 'London SW', 10], ['CF', 'Cardiff', 6], ['E', 'London E', 6]]);
    assert.equal(body.by_area.postcode_district[0].code, 'SW1A');
    assert.deepEqual(body.by_area.constituency, [], 'no ONS directory imported yet');
    assert.equal(body.resolution, 'hour');
    assert.deepEqual(
      body.timeline.map((p: { t: string; count: number; cumulative: number }) => [p.t, p.count, p.cumulative]),
      [['2026-11-01T10:00:00Z', 11, 11], ['2026-11-01T11:00:00Z', 12, 23], ['2026-11-01T12:00:00Z', 0, 23], ['2026-11-01T13:00:00Z', 0, 23], ['2026-11-01T14:00:00Z', 11, 34]],
    );
    const days = (await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/stats?resolution=day`)).json();
    assert.deepEqual(days.timeline, [{ t: '2026-11-01', count: 34, cumulative: 34 }]);
    assert.equal((await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/stats?resolution=week`)).statusCode, 422);

    const csv = await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/stats.csv`);
    assert.match(csv.body, /^kind,code,name,count,population,per_100k\ncountry,GB,United Kingdom,22,,\n/);
    assert.match(csv.body, /\npostcode_area,SW,London SW,10,,\n/);
    assert.match(csv.body, /\nhour,2026-11-01T14:00:00Z,,11,,\n/);

    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<svg[^>]+role="img"[^>]+aria-labelledby="cumulative-title cumulative-desc"/);
    assert.match(page.body, /<title id="per-period-title">Signatures per hour<\/title>/);
    assert.match(page.body, /<title id="bars-title">The 3 postcode areas with the most signatures<\/title>/, 'a ranked bar list without boundaries');
    assert.match(textOf(page.body), /Postcode areas Postcode area Signatures London SW \(SW\) 10 Cardiff \(CF\) 6 London E \(E\) 6/);
    const districts = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats?map=postcode_district` });
    assert.match(textOf(districts.body), /Postcode district Signatures SW1A 10 CF10 6 E1 6/);
    assert.doesNotMatch(page.body + csv.body, /@example\.net|Signer \d/, 'counts only, never people');

    const { petition: draft } = await createPetition(t.ctx, { open: false });
    assert.equal((await apiClient(t.app)('GET', `/api/v1/petitions/${draft.slug}/stats`)).statusCode, 404);
    // A site-wide rebuild (`undersign stats rebuild`) goes through the petitions that have signatures.
    const withSignatures = await t.ctx.repositories.stats.petitionsWithSignatures();
    assert.ok(withSignatures.includes(petition.id));
    assert.ok(!withSignatures.includes(draft.id));
  });

  it('places signers in constituencies, councils, wards and regions from an imported ONS directory, with names, populations and maps', async () => {
    now = new Date('2026-11-02T09:00:00.000Z');
    const { petition } = await createPetition(t.ctx);
    // Signed before the directory was imported: the import places them afterwards.
    await signAndConfirm(petition.slug, signerInput({ postcode: 'SW1A 1AA' }));
    await signAndConfirm(petition.slug, signerInput({ postcode: 'E1 6AN' }));
    await t.ctx.services.stats.fold();

    const summary = await t.ctx.services.geo.importFile(`${FIXTURES}onspd-sample.csv`);
    assert.deepEqual({ ...summary, seconds: 0 }, { file: 'postcodes', rows: 12, imported: 11, skipped: 1, areas: { constituency: 6, local_authority: 6, ward: 7, region: 4 }, signaturesPlaced: 2, seconds: 0 }, 'this petition and the earlier one');
    assert.equal((await t.ctx.services.geo.importFile(`${FIXTURES}pcon-names.csv`)).file, 'names');
    assert.equal((await t.ctx.services.geo.importFile(`${FIXTURES}lad-names.csv`)).imported, 6);
    assert.equal((await t.ctx.services.geo.importFile(`${FIXTURES}pcon-population.csv`)).file, 'population');
    // Importing again updates rather than duplicates.
    assert.equal((await t.ctx.services.geo.importFile(`${FIXTURES}onspd-sample.csv`)).imported, 11);
    await assert.rejects(t.ctx.services.geo.importFile(`${FIXTURES}constituencies.geojson`), /Not a CSV file this import understands/);

    for (const postcode of ['SW1A 2AA', 'SW1P 3JA', 'CF10 1EP', 'EH1 1YZ', 'BT1 5GS']) await signAndConfirm(petition.slug, signerInput({ postcode }));
    await t.ctx.services.stats.fold();
    const expected = await countsFromRows(petition.id);
    assert.deepEqual(Object.fromEntries([...(await countsKept(petition.id))].sort()), Object.fromEntries([...expected].sort()));

    const body = (await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/stats`)).json();
    assert.deepEqual(body.by_area.constituency[0], { code: 'E14001172', name: 'Cities of London and Westminster', count: 3, population: 112434, per_100k: 2.7 });
    assert.deepEqual(body.by_area.local_authority.map((a: { name: string; count: number }) => [a.name, a.count]), [['Westminster', 3], ['Belfast', 1], ['Cardiff', 1], ['City of Edinburgh', 1], ['Tower Hamlets', 1]]);
    assert.deepEqual(body.by_area.region.map((a: { name: string; count: number }) => [a.name, a.count]), [['London', 4], ['Northern Ireland', 1], ['Scotland', 1], ['Wales', 1]]);
    assert.equal(body.by_area.ward.reduce((n: number, a: { count: number }) => n + a.count, 0), 7);

    // Without boundaries: bars. With them: a choropleth on the stats page and as an image.
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/map.svg` })).statusCode, 404);
    assert.deepEqual(await t.ctx.services.geo.importBoundaries(`${FIXTURES}constituencies.geojson`), { areas: { constituency: 3 }, skipped: 1 });
    assert.deepEqual(await t.ctx.services.geo.importBoundaries(`${FIXTURES}local-authorities.topojson`), { areas: { local_authority: 2 }, skipped: 0 });
    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats` });
    assert.match(page.body, /<title id="map-title">Map of signatures by constituencies<\/title>/);
    const paths = [...page.body.matchAll(/<path d="M[^"]+" fill="([^"]+)" data-code="([^"]+)"><title>([^<]+)<\/title>/g)].map((m) => [m[2], m[1], m[3]]);
    assert.deepEqual(paths, [
      ['E14001096', '#deebf7', 'Bethnal Green and Stepney: 1'],
      ['E14001172', '#08519c', 'Cities of London and Westminster: 3'],
      ['E14001298', '#ffffff', 'Islington South and Finsbury: 0'],
    ]);
    assert.match(textOf(page.body), /Constituency Signatures Per 100,000 people Cities of London and Westminster \(E14001172\) 3 2\.7/);
    const perHead = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats?map=constituency&measure=per_100k` });
    assert.match(perHead.body, /Map of signatures per 100,000 people by constituencies/);
    assert.match(perHead.body, /<title>Cardiff South and Penarth: population not known<\/title>|Bethnal Green and Stepney: 0\.9/);
    const councils = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/stats?map=local_authority` });
    assert.match(councils.body, /data-code="E09000033"><title>Westminster: 3<\/title>/);
    const image = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/map.svg?map=local_authority` });
    assert.equal(image.statusCode, 200);
    assert.match(image.headers['content-type'] as string, /^image\/svg\+xml/);
    assert.match(image.body, /data-code="E09000030"><title>Tower Hamlets: 1<\/title>/);
    const zipped = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/map.svg?map=local_authority`, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(zipped.rawPayload).toString(), image.body, 'the same map, compressed');
    const petitionPage = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.match(petitionPage.body, /<img src="\/petitions\/[^"]+\/map\.svg\?map=constituency"/);
    assert.match(textOf(petitionPage.body), /Where signers are .*Cities of London and Westminster 3/);
  });
});
