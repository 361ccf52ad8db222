import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { storedSignatureStatus, storedSignatureTimes } from '../../db/dialect.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser } from '../../../test/helpers/factories.ts';
import { pdfPages } from '../../../test/helpers/pdf.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';

/** Confirmed signers of the story: accented names, withheld names, several districts, one abroad. */
const SIGNERS = [
  { name: 'Zoë Ó Súilleabháin', email: 'zoe@example.net', postcode: 'SW1A 1AA', country: 'GB', public_name: 1 },
  { name: 'Łukasz Nowak', email: 'lukasz@example.net', postcode: 'SW1A 2AA', country: 'GB', public_name: 1 },
  { name: 'Private Person', email: 'private@example.net', postcode: 'SW1A 0AA', country: 'GB', public_name: 0 },
  { name: 'Ana Signer', email: 'ana@example.net', postcode: 'E1 6AN', country: 'GB', public_name: 1 },
  { name: '=HYPERLINK("http://evil.example","click")', email: 'formula@example.net', postcode: 'E1 7AA', country: 'GB', public_name: 1 },
  { name: 'Jean Dupont', email: 'jean@example.fr', postcode: null, country: 'FR', public_name: 0 },
];

describeEachDatabase('hand-in pack, exports and outcome', (kind) => {
  let t: TestApp;
  let owner: User;
  let viewer: User;
  let petition: Petition;
  let ownerApi: ReturnType<typeof apiClient>;

  before(async () => {
    t = await createTestApp(kind);
    owner = await createUser(t.ctx, { name: 'Claude Moraes' });
    viewer = await createUser(t.ctx);
    ({ petition } = await createPetition(t.ctx, { owner, input: { title: 'Keep the Met human trafficking unit open' } }));
    await t.ctx.db.kysely.insertInto('petition_members').values({ petition_id: petition.id, user_id: viewer.id, role: 'viewer', created_at: new Date().toISOString() }).execute();
    const now = new Date().toISOString();
    await t.ctx.db.kysely
      .insertInto('signatures')
      .values(SIGNERS.map((s) => ({ ...s, petition_id: petition.id, email_key: signatureEmailKey(s.email), contact_opt_in: 1, ...storedSignatureStatus(t.ctx.db.kind, 'confirmed'), ...storedSignatureTimes(t.ctx.db.kind, { created_at: now, confirmed_at: now, confirmation_requested_at: now }) })))
      .execute();
    await t.ctx.db.kysely.insertInto('signatures').values({ name: 'Pending Person', email: 'pending@example.net', email_key: signatureEmailKey('pending@example.net'), postcode: 'N1 9GU', country: 'GB', public_name: 1, petition_id: petition.id, contact_opt_in: 0, ...storedSignatureStatus(t.ctx.db.kind, 'pending'), ...storedSignatureTimes(t.ctx.db.kind, { created_at: now, confirmation_requested_at: now }) }).execute();
    await t.ctx.db.kysely.insertInto('petition_counters').values({ petition_id: petition.id, shard: 0, confirmed_count: SIGNERS.length }).execute();
    ownerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(owner));
    await ownerApi('POST', `/api/v1/petitions/${petition.slug}/endorsements`, { kind: 'organisation', name: 'Anti-Slavery International', quote: 'We support this.' });
  });
  after(() => t.close());

  it('records paper signatures by count and by CSV import, with a row-by-row report', async () => {
    const batch = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/paper-signatures`, { count: 40, collected_on: '2006-11-10', place: 'Brixton market' });
    assert.equal(batch.statusCode, 201, batch.body);
    const bad = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/paper-signatures`, { count: -1, collected_on: 'soon' });
    assert.equal(bad.statusCode, 422);

    const csv = 'Name,Postcode,Email\nMary Paper,sw1a1aa,mary@example.net\n,E1 6AN,\nBad Postcode,XX,\nZoë Again,SW1A 1AA,ZOE@example.net\n';
    const imported = await t.app.inject({
      method: 'POST',
      url: `/api/v1/petitions/${petition.slug}/paper-signatures?collected_on=2006-11-12&place=Street%20stall`,
      headers: { authorization: `Bearer ${await t.ctx.services.auth.createApiToken(owner)}`, 'content-type': 'text/csv' },
      payload: csv,
    });
    assert.equal(imported.statusCode, 201, imported.body);
    const report = imported.json().data;
    assert.equal(report.accepted, 1);
    assert.deepEqual(report.rejected.map((r: { line: number }) => r.line), [3, 4]);
    assert.deepEqual(report.duplicates, [{ line: 5, email: 'zoe@example.net' }]);

    const p = (await ownerApi('GET', `/api/v1/petitions/${petition.slug}`)).json().data;
    assert.equal(p.signature_count, 6);
    assert.equal(p.paper_signature_count, 41);
    assert.equal(p.total_signature_count, 47);
    const page = textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).body);
    assert.match(page, /Online 6 On paper 41 Total 47/);
  });

  it('builds a hand-in pack that prints the figures, groups and withholds names, and never prints an email', async () => {
    const res = await ownerApi('GET', `/petitions/${petition.slug}/handin.pdf`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/pdf');
    const pages = await pdfPages(res.rawPayload);
    const all = pages.join('\n');
    const cover = pages[0]!;
    assert.match(cover, /Keep the Met human trafficking unit open/);
    assert.match(cover, /A petition to Sir Ian Blair, Commissioner, Metropolitan Police/);
    assert.match(cover, /Started by: Claude Moraes/);
    assert.match(cover, /Signatures confirmed online: 6/);
    assert.match(cover, /Signatures on paper: 41/);
    assert.match(cover, /Total signatures: 47/);
    assert.match(cover, new RegExp(`http://localhost:3000/petitions/${petition.slug}`));
    assert.match(pages[1]!, /Supported by[\s\S]*Anti-Slavery International/);
    assert.match(all, /Zoë Ó Súilleabháin/);
    assert.match(all, /Łukasz Nowak/);
    assert.equal((all.match(/Name withheld/g) ?? []).length, 2);
    assert.doesNotMatch(all, /Private Person|Jean Dupont|Pending Person/);
    assert.doesNotMatch(all, /@/, 'no email address anywhere');
    assert.doesNotMatch(all, /SW1A 1AA|E1 6AN/, 'no full postcode');
    const subtotals = [...all.matchAll(/Subtotal for (\S[^\n]*?) (\d+)\n/g)].map((m) => [m[1], Number(m[2])] as const);
    assert.deepEqual(subtotals, [['E1', 2], ['SW1A', 3], ['France', 1]]);
    assert.equal(subtotals.reduce((sum, [, n]) => sum + n, 0), 6);
    assert.match(all, /Total signatures confirmed online 6/);
    assert.match(all, /page 3/);
  });

  it('exports signers as CSV for owners only, neutralising formulas, and records each download', async () => {
    const res = await ownerApi('GET', `/api/v1/petitions/${petition.slug}/signatures.csv`);
    assert.equal(res.statusCode, 200);
    const lines = res.body.trim().split('\n');
    assert.equal(lines[0], 'name,email,postcode,country,signed_at,confirmed_at,contact_opt_in');
    assert.equal(lines.length, 7, 'six confirmed signers, no pending one');
    assert.ok(lines.some((l) => l.startsWith(`"'=HYPERLINK(""http://evil.example"",""click"")"`)), lines.join('\n'));
    // The staff page's link: the same file, for a signed-in owner.
    const fromPage = await (await signedInSession(t.app, owner.email)).get(`/petitions/${petition.slug}/signatures.csv`);
    assert.equal(fromPage.statusCode, 200);
    assert.equal(fromPage.body, res.body);
    const viewerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(viewer));
    assert.equal((await viewerApi('GET', `/api/v1/petitions/${petition.slug}/signatures.csv`)).statusCode, 403);
    assert.equal((await viewerApi('GET', `/petitions/${petition.slug}/handin.pdf`)).statusCode, 403);
    const summary = await viewerApi('GET', `/api/v1/petitions/${petition.slug}/summary.csv`);
    assert.equal(summary.statusCode, 200);
    assert.match(summary.body, /^area,signatures\nSW1A,3\nE1,2\nFrance,1\n/);
    assert.doesNotMatch(summary.body, /@|Zoë/);
    const stranger = apiClient(t.app, await t.ctx.services.auth.createApiToken(await createUser(t.ctx)));
    assert.equal((await stranger('GET', `/api/v1/petitions/${petition.slug}/signatures.csv`)).statusCode, 403);
    assert.equal((await stranger('GET', `/api/v1/petitions/${petition.slug}/summary.csv`)).statusCode, 403);
    assert.equal((await ownerApi('GET', '/api/v1/petitions/no-such-petition/signatures.csv')).statusCode, 404);
    assert.equal((await ownerApi('GET', '/petitions/no-such-petition/handin.pdf')).statusCode, 404);
    const downloads = (await t.ctx.repositories.audit.list({ petitionId: petition.id, limit: 50 })).map((e) => e.action);
    assert.ok(downloads.includes('export.signatures_csv') && downloads.includes('export.handin_pdf'));
  });

  it('records the hand-in, the response and a victory, shown to the public', async () => {
    const delivered = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/delivery`, {
      delivered_at: '2026-11-16T10:30:00Z',
      place: 'City Hall, Police Authority board meeting',
      recipient_name: 'the Mayor of London',
      recipient_body: 'Metropolitan Police Authority',
      presented_by: 'Claude Moraes MEP',
    });
    assert.equal(delivered.statusCode, 200, delivered.body);
    assert.equal(delivered.json().data.state, 'delivered');
    assert.equal(delivered.json().data.delivered_at, '2026-11-16T10:30:00.000Z');
    assert.equal((await ownerApi('POST', `/api/v1/petitions/${petition.slug}/delivery`, { delivered_at: '2026-11-16', place: 'Again', recipient_name: 'Someone', presented_by: 'Me' })).statusCode, 409);
    const sign = await apiClient(t.app)('POST', `/api/v1/petitions/${petition.slug}/signatures`, { name: 'Late', email: 'late@example.net', postcode: 'SW1A 1AA', country: 'GB' });
    assert.equal(sign.statusCode, 409, 'a delivered petition takes no more signatures');

    const response = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/response`, {
      responder: 'Sir Ian Blair, Commissioner',
      responded_on: '2026-11-20',
      text: 'Conviction rates have nothing to do with the closure. The Home Office funding ended.',
    });
    assert.equal(response.statusCode, 200, response.body);
    const outcome = await ownerApi('POST', `/api/v1/petitions/${petition.slug}/outcome`, { outcome: 'won', summary: 'The unit stays open for another year.', notify_signers: true });
    assert.equal(outcome.statusCode, 200, outcome.body);
    assert.deepEqual({ ...outcome.json().data.outcome, recorded_at: 'x' }, { result: 'won', summary: 'The unit stays open for another year.', recorded_at: 'x' });
    assert.equal((await ownerApi('POST', `/api/v1/petitions/${petition.slug}/outcome`, { outcome: 'maybe', summary: 'x' })).json().error.field, 'outcome');

    const page = textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).body);
    assert.match(page, /This petition has been handed in/);
    assert.match(page, /Victory Outcome: Won\. The unit stays open for another year\./);
    assert.match(page, /Claude Moraes MEP handed the petition to the Mayor of London \(Metropolitan Police Authority\) with 47 signatures/);
    assert.match(page, /The response Sir Ian Blair, Commissioner, 20 November 2026/);
    const victories = (await apiClient(t.app)('GET', '/api/v1/petitions?state=victories')).json().data.map((p: { slug: string }) => p.slug);
    assert.deepEqual(victories, [petition.slug]);
    assert.match(textOf((await t.app.inject({ method: 'GET', url: '/petitions?state=victories' })).body), /Victories \(1\)/);

    await t.drainJobs();
    const outbox = await t.ctx.devOutbox.list(1000);
    assert.equal(outbox.filter((m) => m.subject.startsWith('Won: ')).length, SIGNERS.length, 'every opted-in confirmed signer hears the outcome');

    const viewerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(viewer));
    assert.equal((await viewerApi('POST', `/api/v1/petitions/${petition.slug}/outcome`, { outcome: 'lost', summary: 'Sabotage' })).statusCode, 403);
  });

  it('gives the team a hand-in page with downloads and a privacy note', async () => {
    const browser = await signedInSession(t.app, owner.email);
    const page = await browser.get(`/petitions/${petition.slug}/handin`);
    assert.equal(page.statusCode, 200);
    const text = textOf(page.body);
    assert.match(text, /Hand-in pack \(PDF\)/);
    assert.match(text, /Privacy: the signers’ details are personal data/);
    const viewerPage = await (await signedInSession(t.app, viewer.email)).get(`/petitions/${petition.slug}/handin`);
    assert.doesNotMatch(textOf(viewerPage.body), /Hand-in pack \(PDF\)/);
    assert.match(textOf(viewerPage.body), /Signatures by area/);
  });
});
