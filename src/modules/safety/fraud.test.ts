import assert from 'node:assert/strict';
import { Kysely, type Dialect, type Driver } from 'kysely';
import { after, before, describe, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { anotherProcess, createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../../test/helpers/db.ts';
import { createPetition, createUser, seedSignatures, signerInput } from '../../../test/helpers/factories.ts';
import { createDialect, postcodeDistrict } from '../../db/dialect.ts';
import type { Database } from '../../db/schema.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';
import { ipFromStored, signatureEmailDomain } from '../../db/dialect.ts';
import { readFraudReport } from './fraud.repository.ts';
import { createLogger } from '../../context.ts';

describeEachDatabase('trust and safety: IP addresses, limits, fraud review and invalidation', (kind) => {
  let t: TestApp;
  let now = new Date('2026-11-10T12:00:00.000Z');
  before(async () => {
    t = await createTestApp(kind, {
      config: { rateLimit: true, rateLimitStore: 'database', signLimitPerIp: 1000, signLimitPerDomain: 1000, blockedIps: ['198.51.100.0/24'] },
      overrides: { clock: () => now },
    });
  });
  after(() => t.close());

  /** Signs through the JSON API from an IP address; returns the signature's id. */
  async function sign(slug: string, input: Record<string, unknown>, ip: string, app = t.app) {
    const res = await app.inject({ method: 'POST', url: `/api/v1/petitions/${slug}/signatures`, payload: input, remoteAddress: ip });
    return res;
  }
  async function signAndConfirm(slug: string, input: Record<string, unknown>, ip: string): Promise<number> {
    const res = await sign(slug, input, ip);
    assert.equal(res.statusCode, 202, res.body);
    const row = await t.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(String(input.email).toLowerCase())).orderBy('id', 'desc').executeTakeFirstOrThrow();
    await t.ctx.services.signatures.confirmSignature(t.ctx.services.signatures.confirmationTokens.sign(row.id));
    return row.id;
  }
  const count = async (slug: string) => (await t.ctx.services.petitions.getForViewer(slug, null)).signatureCount;
  const confirmedRows = async (petitionId: number) =>
    Number((await t.ctx.db.kysely.selectFrom('signatures').select((eb) => eb.fn.countAll().as('n')).where('petition_id', '=', petitionId).where('status', '=', 'confirmed').executeTakeFirstOrThrow()).n);

  it('keeps the IP address for the review period only, then a keyed hash, and refuses blocked ranges', async () => {
    const { petition } = await createPetition(t.ctx);
    await signAndConfirm(petition.slug, signerInput({ email: 'kept@Example.ORG' }), '203.0.113.7');
    const row = await t.ctx.db.kysely
      .selectFrom('signatures')
      .select(['ip', 'ip_hash', signatureEmailDomain(t.ctx.db.kind).as('domain')])
      .where('email_key', '=', signatureEmailKey('kept@example.org'))
      .executeTakeFirstOrThrow();
    assert.equal(ipFromStored(row.ip), '203.0.113.7');
    if (kind === 'sqlite') assert.deepEqual([...(row.ip as Uint8Array)], [203, 0, 113, 7], 'its four bytes, not 11 characters');
    assert.match(row.ip_hash!, /^[\w-]{11}$/);
    assert.equal(row.domain, 'example.org');
    const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
    assert.doesNotMatch(page.body, /203\.0\.113\.7/, 'never on a public page');

    now = new Date(now.getTime() + 31 * 86_400_000);
    assert.equal(await t.ctx.repositories.signatures.dropIpAddresses(new Date(now.getTime() - 30 * 86_400_000).toISOString(), 1000), 1);
    const after = await t.ctx.db.kysely.selectFrom('signatures').select(['ip', 'ip_hash']).where('email_key', '=', signatureEmailKey('kept@example.org')).executeTakeFirstOrThrow();
    assert.deepEqual(after, { ip: null, ip_hash: row.ip_hash });

    const blocked = await sign(petition.slug, signerInput(), '198.51.100.23');
    assert.equal(blocked.statusCode, 403);
    assert.match(blocked.json().error.message, /not being accepted from your network/);
  });

  it('limits signatures per IP address and per email domain for each petition, shared by every app process', async () => {
    const limited = await createTestApp(kind, { config: { rateLimit: true, rateLimitStore: 'database', signLimitPerIp: 3, signLimitPerDomain: 4 } });
    // A second app process on the same database.
    const { app: otherApp, close: closeOther } = await anotherProcess(limited, { rateLimit: true, rateLimitStore: 'database', signLimitPerIp: 3, signLimitPerDomain: 4 });
    try {
      const { petition } = await createPetition(limited.ctx);
      const { petition: second } = await createPetition(limited.ctx);
      assert.equal((await sign(petition.slug, signerInput(), '192.0.2.1', limited.app)).statusCode, 202);
      assert.equal((await sign(petition.slug, signerInput(), '192.0.2.1', otherApp)).statusCode, 202);
      assert.equal((await sign(petition.slug, signerInput(), '192.0.2.1', limited.app)).statusCode, 202);
      const refused = await sign(petition.slug, signerInput(), '192.0.2.1', otherApp);
      assert.equal(refused.statusCode, 429, 'the fourth from one address, across both processes');
      assert.match(refused.json().error.message, /Many people have signed this petition from your network .* try again in \d+ minutes?, or from another connection/);
      assert.ok(Number(refused.headers['retry-after']) > 0);
      assert.equal((await sign(second.slug, signerInput(), '192.0.2.1', otherApp)).statusCode, 202, 'another petition is counted apart');
      assert.equal((await sign(petition.slug, signerInput(), '192.0.2.2', otherApp)).statusCode, 202, 'another address is fine');

      for (let i = 0; i < 4; i++) assert.equal((await sign(petition.slug, signerInput({ email: `staff${i}@bigcorp.example` }), `192.0.2.${10 + i}`, i % 2 ? otherApp : limited.app)).statusCode, 202);
      const domain = await sign(petition.slug, signerInput({ email: 'staff9@bigcorp.example' }), '192.0.2.30', limited.app);
      assert.equal(domain.statusCode, 429);
      assert.match(domain.json().error.message, /email addresses at bigcorp\.example in the last hour\. Please try again in \d+ minutes?/);
      const welsh = await limited.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signerInput({ email: 'staff10@bigcorp.example' }), remoteAddress: '192.0.2.31', headers: { 'accept-language': 'cy' } });
      assert.equal(welsh.statusCode, 429);
      assert.match(welsh.json().error.message, /gyfeiriadau e-bost yn bigcorp\.example yn yr awr ddiwethaf\..* ymhen \d+ munud/, 'in Welsh, naming the domain');
      for (let i = 0; i < 6; i++) assert.equal((await sign(petition.slug, signerInput({ email: `person${i}@gmail.com` }), `192.0.2.${40 + i}`, limited.app)).statusCode, 202, 'big webmail providers are exempt');

      // Route limits from @fastify/rate-limit use the same shared store: ten sign-in attempts a minute.
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const res = await (i % 2 ? otherApp : limited.app).inject({ method: 'POST', url: '/login', payload: { email: 'x@example.org', password: 'wrong' }, remoteAddress: '192.0.2.99' });
        statuses.push(res.statusCode);
      }
      assert.equal(statuses.at(-1), 429, `the eleventh attempt across both processes (${statuses.join(',')})`);
    } finally {
      await closeOther();
      await limited.close();
    }
  });

  it('shows moderators what looks automated, lets them invalidate and reinstate in bulk, and keeps every count exact', async () => {
    now = new Date('2026-11-20T09:00:00.000Z');
    const moderator = await createUser(t.ctx, { role: 'moderator' });
    const { petition, owner } = await createPetition(t.ctx);
    // People, slowly.
    for (let i = 0; i < 6; i++) {
      now = new Date(now.getTime() + 7 * 60_000);
      await signAndConfirm(petition.slug, signerInput({ postcode: i % 2 ? 'E1 6AN' : 'N1 9GU' }), `203.0.113.${100 + i}`);
    }
    // A bot: twelve numbered addresses from one IP within a minute, one left unconfirmed; and a non-UK signer with a UK postcode.
    now = new Date('2026-11-20T10:30:00.000Z');
    for (let i = 1; i <= 12; i++) {
      if (i === 12) assert.equal((await sign(petition.slug, signerInput({ email: `voter${i}@botmail.example` }), '192.0.2.66')).statusCode, 202);
      else await signAndConfirm(petition.slug, signerInput({ email: `voter${i}@botmail.example`, postcode: 'SW1A 1AA' }), '192.0.2.66');
    }
    await signAndConfirm(petition.slug, signerInput({ country: 'FR', postcode: 'SW1A 2AA' }), '203.0.113.200');
    assert.equal(await count(petition.slug), 18);

    // Only moderators see the review.
    assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/fraud` })).statusCode, 401);
    const ownerSession = await signedInSession(t.app, owner.email);
    assert.equal((await ownerSession.get(`/petitions/${petition.slug}/fraud`)).statusCode, 403);
    const session = await signedInSession(t.app, moderator.email);
    const dashboard = await session.get(`/petitions/${petition.slug}/fraud`);
    assert.equal(dashboard.statusCode, 200);
    const text = textOf(dashboard.body);
    assert.match(text, /18 confirmed, 1 waiting for confirmation, 0 invalidated/);
    assert.match(text, /Many signatures from one address within ten minutes Bursts from one address Address Ten minutes from \(UTC\) Signatures 192\.0\.2\.66 2026-11-20 10:30 12/);
    assert.match(text, /Email domains with the most signatures Top email domains Domain Signatures Confirmed First Last botmail\.example 12 11/);
    assert.match(text, /Addresses that differ only by a number Numbered email addresses Pattern Count Examples voter…@botmail\.example 12 vo…12@botmail\.example/);
    assert.match(text, /1 signers chose a country other than the UK but gave a valid UK postcode/);
    assert.match(text, /2026-11-20 10:30 13 Spike/, 'the bot minute stands out');
    const api = await apiClient(t.app, await t.ctx.services.auth.createApiToken(moderator, 'review'))('GET', `/api/v1/petitions/${petition.slug}/fraud`);
    assert.equal(api.statusCode, 200);
    assert.equal(api.json().data.bursts[0].count, 12);
    assert.equal(api.json().data.bursts[0].window, '2026-11-20T10:30');
    const bots = api.json().data.domains.find((d: { domain: string }) => d.domain === 'botmail.example');
    assert.deepEqual([bots.first, bots.last], ['2026-11-20T10:30:00.000Z', '2026-11-20T10:30:00.000Z']);
    // On a SQLite file the report's scans run on the reader thread (the web thread serves on meanwhile), with the same findings.
    const limits = { groups: 20, minutes: 10, burstMinimum: 10, bursts: 20, patternSample: 1000 };
    assert.equal(t.ctx.db.reader !== null, kind === 'sqlite');
    assert.deepEqual(await t.ctx.repositories.fraud.report(petition.id, limits), await readFraudReport(t.ctx.db, petition.id, limits));

    // Drill down to the address, then invalidate what it sent.
    const list = await session.get(`/petitions/${petition.slug}/fraud/signatures?ip=192.0.2.66`);
    assert.match(textOf(list.body), /12 signatures match/);
    assert.match(textOf(list.body), /Invalidating takes 12 signatures out \(11 of them confirmed, so the count falls by 11\)/);
    assert.doesNotMatch(list.body, /voter3@botmail\.example/, 'emails are masked even for moderators');
    const missingReason = await session.post(`/petitions/${petition.slug}/invalidations`, { ip: '192.0.2.66', reason: '' });
    assert.equal(missingReason.statusCode, 422);
    assert.match(textOf(missingReason.body), /Say why these signatures are invalid/);
    const nothing = await session.post(`/petitions/${petition.slug}/invalidations`, { reason: 'bots' });
    assert.equal(nothing.statusCode, 422);
    const done = await session.post(`/petitions/${petition.slug}/invalidations`, { ip: '192.0.2.66', reason: 'One address, numbered emails, one minute' });
    assert.equal(done.statusCode, 303);
    assert.equal(await count(petition.slug), 7);
    assert.equal(await confirmedRows(petition.id), 7);
    // The unconfirmed one cannot be confirmed any more.
    const pending = await t.ctx.db.kysely.selectFrom('signatures').select(['id', 'status']).where('email_key', '=', signatureEmailKey('voter12@botmail.example')).executeTakeFirstOrThrow();
    assert.equal(pending.status, 'invalidated');
    await t.ctx.services.signatures.confirmSignature(t.ctx.services.signatures.confirmationTokens.sign(pending.id));
    assert.equal(await count(petition.slug), 7);

    // Area and time figures follow exactly.
    const areaSums = async () => {
      await t.ctx.services.stats.fold();
      const kept = Object.fromEntries((await t.ctx.repositories.stats.areaCounts(petition.id)).filter((r) => r.kind === 'postcode_district').map((r) => [r.code, Number(r.count)]));
      const district = postcodeDistrict(t.ctx.db.kind, 'postcode');
      const rows = await t.ctx.db.kysely.selectFrom('signatures').select([district.as('d'), (eb) => eb.fn.countAll<number>().as('n')]).where('petition_id', '=', petition.id).where('status', '=', 'confirmed').where('country', '=', 'GB').groupBy(district).execute();
      assert.deepEqual(kept, Object.fromEntries(rows.map((r) => [r.d, Number(r.n)])));
      return kept;
    };
    assert.equal((await areaSums()).SW1A, undefined);

    // Reinstating puts back exactly what was taken.
    const [inv] = await t.ctx.repositories.fraud.listInvalidations(petition.id);
    assert.equal(inv!.signature_count, 12);
    assert.equal(inv!.confirmed_count, 11);
    const reinstated = await session.post(`/petitions/${petition.slug}/invalidations/${inv!.id}/reinstate`, {});
    assert.equal(reinstated.statusCode, 303);
    assert.equal(await count(petition.slug), 18);
    assert.equal((await areaSums()).SW1A, 11);
    assert.equal((await session.post(`/petitions/${petition.slug}/invalidations/${inv!.id}/reinstate`, {})).statusCode, 409, 'once');

    // The API does the same by domain; the audit log has both.
    const token = await t.ctx.services.auth.createApiToken(moderator, 'review');
    const byDomain = await apiClient(t.app, token)('POST', `/api/v1/petitions/${petition.slug}/invalidations`, { domain: 'botmail.example', reason: 'Throwaway domain' });
    assert.equal(byDomain.statusCode, 201, byDomain.body);
    assert.equal(byDomain.json().data.confirmed_count, 11);
    assert.equal(await count(petition.slug), 7);
    const ownerApi = await apiClient(t.app, await t.ctx.services.auth.createApiToken(owner, 'mine'))('POST', `/api/v1/petitions/${petition.slug}/invalidations`, { domain: 'example.net', reason: 'I do not like them' });
    assert.equal(ownerApi.statusCode, 403, 'campaigners cannot remove signatures');
    const audit = await t.ctx.db.kysely.selectFrom('audit_log').select(['action', 'actor_id']).where('petition_id', '=', petition.id).where('action', 'like', 'signatures.%').orderBy('id').execute();
    assert.deepEqual(audit.map((a) => a.action), ['signatures.invalidated', 'signatures.reinstated', 'signatures.invalidated']);
    assert.ok(audit.every((a) => a.actor_id === moderator.id));
    await areaSums();
  });

  it('reviews a big petition in the background: kept findings with their time, newer ones when old or outdated, one job between views, no IP address past its period', async () => {
    let clock = new Date('2026-11-22T09:00:00.000Z');
    // Five confirmed signatures make a "big" petition here (200,000 by default).
    const big = await createTestApp(kind, { config: { fraudReviewLiveSignatures: 5 }, overrides: { clock: () => clock } });
    try {
      const moderator = await createUser(big.ctx, { role: 'moderator' });
      const { petition } = await createPetition(big.ctx);
      const signFrom = async (email: string, ip: string) => {
        const res = await big.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signerInput({ email }), remoteAddress: ip });
        assert.equal(res.statusCode, 202, res.body);
        const row = await big.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(email)).where('petition_id', '=', petition.id).executeTakeFirstOrThrow();
        await big.ctx.services.signatures.confirmSignature(big.ctx.services.signatures.confirmationTokens.sign(row.id));
      };
      for (let i = 0; i < 10; i++) await signFrom(`burst${i}@example.net`, '192.0.2.77');
      for (let i = 0; i < 5; i++) await signFrom(`person${i}@example.org`, `203.0.113.${10 + i}`);
      const jobs = async () => Number((await big.ctx.db.kysely.selectFrom('jobs').select((eb) => eb.fn.countAll().as('n')).where('kind', '=', 'fraud.report').where('state', '=', 'pending').executeTakeFirstOrThrow()).n);
      const session = await signedInSession(big.app, moderator.email);
      const review = async () => {
        const res = await session.get(`/petitions/${petition.slug}/fraud`);
        assert.equal(res.statusCode, 200, res.body);
        return res;
      };

      // First look (three moderators at once): nothing kept yet. The page says so; one job is queued between them.
      let [page] = (await Promise.all([review(), review(), review()])) as [Awaited<ReturnType<typeof review>>, unknown, unknown];
      assert.match(textOf(page.body), /The findings for this petition are being computed \(asked for at 2026-11-22 09:00 UTC\)\. This takes a few seconds for every million signatures: Reload this page to see them once they are ready/);
      assert.doesNotMatch(page.body, /http-equiv="refresh"/, 'never reloads by itself (WCAG 2.2.1; the invalidation form may be half filled in)');
      assert.match(page.body, /<p role="status" data-review-progress="\/petitions\/[^"]+\/fraud\/state" data-computed-at="">/);
      assert.match(page.body, /<script src="\/static\/review-progress\.js" defer="">/);
      const progress = async () => (await session.get(`/petitions/${petition.slug}/fraud/state`)).json().data;
      assert.deepEqual(await progress(), { computedAt: null, updatingSince: '2026-11-22T09:00:00.000Z' });
      assert.doesNotMatch(textOf(page.body), /confirmed, \d+ waiting/);
      assert.match(textOf(page.body), /Invalidations None\./, 'invalidations are read live');
      await review();
      assert.equal(await jobs(), 1, 'one job however often the page is opened');
      const token = await big.ctx.services.auth.createApiToken(moderator, 'review');
      const api = apiClient(big.app, token);
      const waiting = await api('GET', `/api/v1/petitions/${petition.slug}/fraud`);
      assert.equal(waiting.statusCode, 202);
      assert.equal(waiting.headers['retry-after'], '15');
      assert.equal(waiting.json().data, null);
      assert.equal(waiting.json().review.updatingSince, '2026-11-22T09:00:00.000Z');

      // The job computes and keeps them; the page shows them with their time, and asks for nothing new.
      await big.drainJobs();
      clock = new Date('2026-11-22T09:01:00.000Z');
      page = await review();
      let text = textOf(page.body);
      assert.match(text, /These findings are as of 2026-11-22 09:00 UTC \(they took (under a second|\d+ seconds?) to compute\)/);
      assert.match(text, /15 confirmed, 0 waiting for confirmation, 0 invalidated/);
      assert.match(text, /Bursts from one address Address Ten minutes from \(UTC\) Signatures 192\.0\.2\.77 2026-11-22 09:00 10/);
      assert.match(text, /Review again now/);
      assert.doesNotMatch(page.body, /review-progress/, 'nothing to wait for');
      assert.deepEqual(await progress(), { computedAt: '2026-11-22T09:00:00.000Z', updatingSince: null });
      assert.equal(await jobs(), 0);
      const ready = await api('GET', `/api/v1/petitions/${petition.slug}/fraud`);
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().data.totals.confirmed, 15);
      assert.deepEqual(ready.json().review, { live: false, computedAt: '2026-11-22T09:00:00.000Z', tookMs: ready.json().review.tookMs, updatingSince: null, outdated: false });

      // A new signature does not show until the findings are five minutes old; then they are asked for again.
      await signFrom('late@example.org', '203.0.113.9');
      assert.match(textOf((await review()).body), /15 confirmed/);
      assert.equal(await jobs(), 0);
      clock = new Date('2026-11-22T09:05:00.000Z');
      await progress();
      assert.equal(await jobs(), 0, 'the script\'s polling never asks for findings');
      text = textOf((await review()).body);
      assert.match(text, /15 confirmed/, 'the kept findings, while newer ones are computed');
      assert.match(text, /Newer findings are being computed \(asked for at 2026-11-22 09:05 UTC\)/);
      assert.doesNotMatch(text, /Review again now/);
      assert.equal(await jobs(), 1);
      await big.drainJobs();
      assert.match(textOf((await review()).body), /16 confirmed, 0 waiting for confirmation, 0 invalidated/);

      // An invalidation outdates them: said on the page, and newer ones are asked for at once.
      clock = new Date('2026-11-22T09:06:00.000Z');
      assert.equal((await session.post(`/petitions/${petition.slug}/invalidations`, { ip: '192.0.2.77', reason: 'A burst from one address' })).statusCode, 303);
      text = textOf((await session.get(`/petitions/${petition.slug}/fraud?notice=invalidated`)).body);
      assert.match(text, /The signatures were invalidated\. .*Signatures were invalidated or reinstated since: the figures below do not show it yet\. Newer findings are being computed/);
      assert.match(text, /Invalidations Invalidations When Reason Signatures Were confirmed State 2026-11-22 09:06 A burst from one address 10 10/);
      clock = new Date('2026-11-22T09:07:00.000Z');
      await big.drainJobs();
      text = textOf((await review()).body);
      assert.match(text, / 6 confirmed, 0 waiting for confirmation, 10 invalidated/);
      assert.doesNotMatch(text, /do not show it yet/);

      // "Review again now" asks at once.
      const refreshed = await session.post(`/petitions/${petition.slug}/fraud/refresh`, {});
      assert.equal(refreshed.statusCode, 303);
      assert.equal(refreshed.headers.location, `/petitions/${petition.slug}/fraud?notice=refreshing`);
      assert.equal(await jobs(), 1);
      await big.drainJobs();

      // A request whose process died is asked again once it is long overdue (ten minutes at least).
      clock = new Date('2026-11-22T09:20:00.000Z');
      await review();
      assert.equal(await jobs(), 1);
      await big.ctx.db.kysely.updateTable('jobs').set({ state: 'dead' }).where('kind', '=', 'fraud.report').execute();
      clock = new Date('2026-11-22T09:29:00.000Z');
      await review();
      assert.equal(await jobs(), 0, 'not yet');
      clock = new Date('2026-11-22T09:31:00.000Z');
      await review();
      assert.equal(await jobs(), 1, 'asked again');
      await big.drainJobs();

      // Past the fraud-review period the kept findings lose the address too, as the signatures do.
      const kept = async () => (await big.ctx.db.kysely.selectFrom('fraud_reports').select('report').where('petition_id', '=', petition.id).executeTakeFirstOrThrow()).report!;
      assert.match(await kept(), /192\.0\.2\.77/);
      clock = new Date('2026-12-23T09:00:00.000Z');
      const before = new Date(clock.getTime() - big.ctx.config.ipRetentionDays * 86_400_000).toISOString();
      await big.ctx.repositories.signatures.dropIpAddresses(before, 1000);
      await big.ctx.services.fraud.forgetIpAddresses(before);
      assert.doesNotMatch(await kept(), /192\.0\.2\.77|203\.0\.113\.9/);
      assert.match(await kept(), /"ipHash":"[\w-]{11}"/, 'the keyed hashes stay');
    } finally {
      await big.close();
    }
  });

  it('forgets in a big petition\'s kept findings a signer who withdraws or asks to be erased, and drops them once the petition\'s signers are erased', async () => {
    let clock = new Date('2026-11-24T09:00:00.000Z');
    const logged: string[] = [];
    const log = createLogger({ logLevel: 'warn' }, { write: (line: string) => void logged.push(line) });
    const big = await createTestApp(kind, { config: { fraudReviewLiveSignatures: 5 }, overrides: { clock: () => clock, log } });
    try {
      const moderator = await createUser(big.ctx, { role: 'moderator' });
      const { petition } = await createPetition(big.ctx);
      const signatureIds = new Map<string, number>();
      for (let i = 1; i <= 6; i++) {
        // As typed: the review masks the normalised address.
        const email = `Anna${i}@Example.net`;
        const res = await big.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signerInput({ email }), remoteAddress: i <= 3 ? '192.0.2.50' : '203.0.113.60' });
        assert.equal(res.statusCode, 202, res.body);
        const row = await big.ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(email.toLowerCase())).where('petition_id', '=', petition.id).executeTakeFirstOrThrow();
        await big.ctx.services.signatures.confirmSignature(big.ctx.services.signatures.confirmationTokens.sign(row.id));
        signatureIds.set(email, row.id);
      }
      const session = await signedInSession(big.app, moderator.email);
      await session.get(`/petitions/${petition.slug}/fraud`);
      await big.drainJobs();
      const kept = async () => (await big.ctx.db.kysely.selectFrom('fraud_reports').selectAll().where('petition_id', '=', petition.id).executeTakeFirst()) ?? null;
      const findings = async () => JSON.parse((await kept())!.report!) as { ips: { ip: string | null; count: number }[]; sequences: { examples: string[] }[] };
      const before = await findings();
      const [first, second] = before.sequences[0]!.examples;
      assert.ok(first && second, JSON.stringify(before.sequences));
      assert.ok(before.ips.some((g) => g.ip === '192.0.2.50' && g.count === 3), JSON.stringify(before.ips));
      const emailOf = (masked: string) => `Anna${/(\d+)@/.exec(masked)![1]}@Example.net`;
      const ipOf = (email: string) => (Number(/\d+/.exec(email)![0]) <= 3 ? '192.0.2.50' : '203.0.113.60');
      assert.ok(JSON.stringify(before).includes(ipOf(emailOf(first))));

      // A signer withdraws: their masked address and the address they signed from go; the findings are outdated.
      clock = new Date('2026-11-24T09:01:00.000Z');
      await big.ctx.services.signatures.removeSignature(big.ctx.services.signatures.removalTokens.sign(signatureIds.get(emailOf(first))!));
      let after = await findings();
      assert.ok(!after.sequences[0]!.examples.includes(first), 'their masked address is gone');
      assert.ok(after.sequences[0]!.examples.includes(second), 'the others\' stay');
      assert.ok(!JSON.stringify(after).includes(ipOf(emailOf(first))), 'the address they signed from is no longer named');
      assert.equal((await kept())!.outdated_at, '2026-11-24T09:01:00.000Z');
      const state = (await apiClient(big.app, await big.ctx.services.auth.createApiToken(moderator, 'review'))('GET', `/api/v1/petitions/${petition.slug}/fraud`)).json().review;
      assert.equal(state.outdated, true);
      assert.equal(state.updatingSince, '2026-11-24T09:01:00.000Z', 'newer findings asked for');

      // A data-subject erasure does the same.
      assert.equal(await big.ctx.services.signatures.erasePersonalData(emailOf(second)), 1);
      after = await findings();
      assert.ok(!after.sequences[0]!.examples.includes(second));

      // If taking a signer out of the findings fails, their withdrawal still stands and says so;
      // the findings were marked outdated with it, and the failure is logged without the signer.
      const third = after.sequences[0]!.examples[0]!;
      const forget = big.ctx.services.fraud.forgetSigner;
      big.ctx.services.fraud.forgetSigner = async () => {
        throw new Error('the database went away');
      };
      try {
        clock = new Date('2026-11-24T09:02:00.000Z');
        const removedFrom = await big.ctx.services.signatures.removeSignature(big.ctx.services.signatures.removalTokens.sign(signatureIds.get(emailOf(third))!));
        assert.equal(removedFrom.id, petition.id);
        assert.equal(await big.ctx.db.kysely.selectFrom('signatures').select('id').where('id', '=', signatureIds.get(emailOf(third))!).executeTakeFirst(), undefined);
        assert.equal((await kept())!.outdated_at, '2026-11-24T09:02:00.000Z');
        const failure = logged.map((l) => JSON.parse(l)).find((l) => /could not be taken out of the kept fraud findings/.test(l.msg));
        assert.equal(failure?.petitionId, petition.id);
        assert.ok(!logged.join('').includes(emailOf(third)) && !logged.join('').toLowerCase().includes(emailOf(third).toLowerCase()));
      } finally {
        big.ctx.services.fraud.forgetSigner = forget;
      }

      // Once the petition has long closed and its signers are erased, nothing is kept.
      await big.ctx.db.kysely.updateTable('petitions').set({ state: 'closed', closed_at: '2026-01-01T00:00:00.000Z' }).where('id', '=', petition.id).execute();
      assert.ok(await kept());
      assert.equal(await big.ctx.repositories.signatures.eraseExpired('2026-06-01T00:00:00.000Z', clock), 3);
      assert.equal(await kept(), null);
    } finally {
      await big.close();
    }
  });

  it('lists every signature newest first by when it was signed, page after page, each once', async () => {
    const { petition } = await createPetition(t.ctx);
    // Signed in this order, at these times: the last one's clock was behind (its id is the highest, its time the earliest).
    const times = ['2026-11-20T10:00:00.000Z', '2026-11-20T10:05:00.000Z', '2026-11-20T10:05:00.000Z', '2026-11-20T10:10:00.000Z', '2026-11-20T09:55:00.000Z'];
    for (const [i, time] of times.entries()) {
      now = new Date(time);
      if (i === 1) assert.equal((await sign(petition.slug, signerInput(), `203.0.113.${i}`)).statusCode, 202);
      else await signAndConfirm(petition.slug, signerInput(), `203.0.113.${i}`);
    }
    const ids = (await t.ctx.db.kysely.selectFrom('signatures').select('id').where('petition_id', '=', petition.id).orderBy('id').execute()).map((r) => r.id);
    const paged: number[] = [];
    for (let offset = 0; offset < times.length; offset += 2) {
      const page = await t.ctx.repositories.fraud.list(petition.id, {}, 2, offset);
      assert.equal(page.total, 5);
      assert.deepEqual(page.valid, { signatures: 5, confirmed: 4 });
      paged.push(...page.rows.map((r) => r.id));
    }
    // 10:10, then the two at 10:05 (the later id first), 10:00, 09:55.
    assert.deepEqual(paged, [ids[3], ids[2], ids[1], ids[0], ids[4]]);
  });

  it('reviews a small petition live, keeping nothing', async () => {
    const moderator = await createUser(t.ctx, { role: 'moderator' });
    const { petition } = await createPetition(t.ctx);
    await seedSignatures(t.ctx, petition.id, 20);
    const session = await signedInSession(t.app, moderator.email);
    const page = await session.get(`/petitions/${petition.slug}/fraud`);
    assert.match(textOf(page.body), /20 confirmed, 0 waiting for confirmation, 0 invalidated/);
    assert.doesNotMatch(textOf(page.body), /These findings are as of|being computed|Review again now/);
    assert.equal(await t.ctx.db.kysely.selectFrom('fraud_reports').select('petition_id').where('petition_id', '=', petition.id).executeTakeFirst(), undefined);
    const api = await apiClient(t.app, await t.ctx.services.auth.createApiToken(moderator, 'review'))('GET', `/api/v1/petitions/${petition.slug}/fraud`);
    assert.equal(api.json().review.live, true);
    assert.equal(api.json().review.updatingSince, null);
  });
});

/** A dialect that records the most connections its driver had out at once. */
function countingConnections(dialect: Dialect): { dialect: Dialect; most: () => number } {
  let out = 0;
  let most = 0;
  return {
    most: () => most,
    dialect: {
      createAdapter: () => dialect.createAdapter(),
      createIntrospector: (db) => dialect.createIntrospector(db),
      createQueryCompiler: () => dialect.createQueryCompiler(),
      createDriver(): Driver {
        const driver = dialect.createDriver();
        return {
          init: () => driver.init(),
          acquireConnection: async () => {
            const connection = await driver.acquireConnection();
            most = Math.max(most, ++out);
            return connection;
          },
          beginTransaction: (c, settings) => driver.beginTransaction(c, settings),
          commitTransaction: (c) => driver.commitTransaction(c),
          rollbackTransaction: (c) => driver.rollbackTransaction(c),
          releaseConnection: async (c) => {
            out--;
            await driver.releaseConnection(c);
          },
          destroy: () => driver.destroy(),
        };
      },
    },
  };
}

describe('the fraud report on PostgreSQL', { skip: POSTGRES_URL ? false : POSTGRES_SKIP_REASON }, () => {
  it('reads on one pooled connection, not one per query (the pool is the signing path\'s too)', async () => {
    const t = await createTestApp('postgres');
    const counting = countingConnections(createDialect(t.database.location).dialect);
    const kysely = new Kysely<Database>({ dialect: counting.dialect });
    try {
      const { petition } = await createPetition(t.ctx);
      await seedSignatures(t.ctx, petition.id, 50);
      const limits = { groups: 20, minutes: 10, burstMinimum: 10, bursts: 20, patternSample: 1000 };
      const report = await readFraudReport({ kysely, kind: 'postgres' }, petition.id, limits);
      assert.equal(report.totals.confirmed, 50);
      assert.equal(counting.most(), 1);
    } finally {
      await kysely.destroy();
      await t.close();
    }
  });
});
