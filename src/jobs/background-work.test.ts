import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { signedInSession, textOf } from '../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../test/helpers/db.ts';
import { createPetition, createUser, signerInput } from '../../test/helpers/factories.ts';
import { mailsTo } from '../../test/helpers/mail.ts';
import { RETRY_CHUNK } from './jobs.repository.ts';
import { CONFIRMATION_JOB } from '../modules/signatures/signatures.service.ts';
import { withoutEmailAddresses } from '../lib/redact.ts';

describeEachDatabase('background work as administrators see it', (kind) => {
  let t: TestApp;
  let clock = new Date('2026-12-01T09:00:00.000Z');
  before(async () => {
    t = await createTestApp(kind, { overrides: { clock: () => clock } });
  });
  after(() => t.close());

  it('shows what waits and how late, what was given up and why (without addresses), and queues given-up confirmation emails again', async () => {
    const admin = await createUser(t.ctx, { role: 'admin' });
    const moderator = await createUser(t.ctx, { role: 'moderator' });
    const { petition } = await createPetition(t.ctx);
    const lost = signerInput({ email: 'lost.signer@example.net' });
    const waiting = signerInput();
    await t.ctx.services.signatures.recordSignature(petition.slug, lost);
    clock = new Date('2026-12-01T09:10:00.000Z');
    await t.ctx.services.signatures.recordSignature(petition.slug, waiting);
    // The first signer's confirmation email was given up after all its attempts (the relay refused it).
    const jobs = await t.ctx.db.kysely.selectFrom('jobs').select(['id', 'payload']).where('kind', '=', CONFIRMATION_JOB).orderBy('id').execute();
    assert.equal(jobs.length, 2);
    await t.ctx.db.kysely
      .updateTable('jobs')
      .set({ state: 'dead', attempts: 8, finished_at: '2026-12-01T10:05:00.000Z', last_error: 'Can\'t send mail - all recipients were rejected: 550 5.1.1 <lost.signer@example.net>: Recipient address rejected' })
      .where('id', '=', jobs[0]!.id)
      .execute();
    clock = new Date('2026-12-01T10:40:00.000Z');

    const overview = await t.ctx.services.jobs.overview(admin);
    const confirmations = overview.kinds.find((k) => k.kind === CONFIRMATION_JOB)!;
    assert.deepEqual({ ...confirmations }, { kind: CONFIRMATION_JOB, waiting: 1, due: 1, running: 0, dead: 1, dueSince: '2026-12-01T09:10:00.000Z' });
    assert.equal(overview.givenUp.length, 1);
    assert.doesNotMatch(overview.givenUp[0]!.error!, /lost\.signer/);
    assert.match(overview.givenUp[0]!.error!, /550 5\.1\.1 <…@example\.net>: Recipient address rejected/);

    // A signer is told, while emails run late, that theirs is queued (the longest-due job: 100 minutes).
    const late = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/signed` });
    assert.match(textOf(late.body), /So many people are signing right now that emails are running about 100 minutes behind\. Yours is queued and will arrive/);

    // Administrators only.
    const moderatorSession = await signedInSession(t.app, moderator.email);
    assert.equal((await moderatorSession.get('/admin/jobs')).statusCode, 403);
    await assert.rejects(t.ctx.services.jobs.retryGivenUp(moderator, CONFIRMATION_JOB), { code: 'forbidden' });

    const session = await signedInSession(t.app, admin.email);
    assert.match((await session.get('/admin')).body, /href="\/admin\/jobs"/);
    const page = await session.get('/admin/jobs');
    assert.equal(page.statusCode, 200);
    const text = textOf(page.body);
    assert.match(text, new RegExp(`${CONFIRMATION_JOB.replace('.', '\\.')} 1 1 1 hour 30 minutes 0 1 Queue it again`));
    assert.match(text, /Given up most recently .* signature\.send_confirmation 8 Can't send mail - all recipients were rejected: 550 5\.1\.1 &lt;…@example\.net&gt;/);
    assert.doesNotMatch(page.body, /lost\.signer/);

    // Queued again once the relay is mended: due now, with all its attempts, and recorded.
    assert.doesNotMatch(textOf((await session.get('/admin/jobs?retried=999&kind=everything')).body), /queued again/, 'a link cannot make up a notice');
    const retried = await session.post('/admin/jobs/retry', { kind: CONFIRMATION_JOB });
    assert.equal(retried.statusCode, 303);
    assert.equal(retried.headers.location, '/admin/jobs');
    assert.match(textOf((await session.get('/admin/jobs')).body), new RegExp(`Last queued again: 1 job of kind signature\\.send_confirmation ?, 1 Dec 2026, 10:40, by ${admin.name}\\.`));
    const [entry] = await t.ctx.repositories.audit.list({ limit: 1 });
    assert.equal(entry!.action, 'jobs.retried');
    assert.equal(entry!.actorId, admin.id);
    assert.deepEqual(entry!.details, { kind: CONFIRMATION_JOB, jobs: 1 });
    const again = (await t.ctx.services.jobs.overview(admin)).kinds.find((k) => k.kind === CONFIRMATION_JOB)!;
    assert.deepEqual([again.waiting, again.due, again.dead], [2, 2, 0]);

    // The worker sends it: the signer can confirm after all.
    await t.drainJobs();
    assert.equal((await mailsTo(t.ctx, 'lost.signer@example.net')).length, 1);
    assert.equal((await t.ctx.services.jobs.overview(admin)).kinds.length, 0, 'nothing left waiting or given up');
    clock = new Date(clock.getTime() + 5_000);
    assert.doesNotMatch(textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/signed` })).body), /running about/, 'on time again');

    // Given-up jobs are deleted after a month; others are not.
    const given = (finishedAt: string) => ({ kind: 'webhook.deliver', payload: '{}', state: 'dead' as const, attempts: 8, max_attempts: 8, run_at: finishedAt, created_at: finishedAt, finished_at: finishedAt, last_error: 'HTTP 500' });
    await t.ctx.db.kysely.insertInto('jobs').values([given('2026-10-01T00:00:00.000Z'), given('2026-11-20T00:00:00.000Z')]).execute();
    await t.ctx.services.signatures.recordSignature(petition.slug, signerInput());
    await t.ctx.services.jobs.forgetOldGivenUp();
    const left = await t.ctx.db.kysely.selectFrom('jobs').select(['state', 'finished_at']).execute();
    assert.deepEqual(left.filter((j) => j.state === 'dead').map((j) => new Date(j.finished_at!).toISOString()), ['2026-11-20T00:00:00.000Z']);
    assert.equal(left.filter((j) => j.state === 'pending').length, 1, 'a waiting job stays');
    assert.match(textOf((await session.get('/admin/jobs')).body), /Given-up jobs are kept for 30 days, then deleted/);

    // A form without CSRF token, or naming no kind, changes nothing.
    assert.equal((await session.post('/admin/jobs/retry', { kind: CONFIRMATION_JOB }, { csrf: false })).statusCode, 403);
    assert.equal((await session.post('/admin/jobs/retry', {})).statusCode, 422);
  });
});

describeEachDatabase('given-up jobs queued again after a long outage', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  it('queues every one of thousands again (more than a transaction takes), with one audit line', async () => {
    const admin = await createUser(t.ctx, { role: 'admin' });
    const dead = (i: number) => ({ kind: 'webhook.deliver', payload: `{"n":${i}}`, state: 'dead' as const, attempts: 8, max_attempts: 8, run_at: '2026-12-01T09:00:00.000Z', created_at: '2026-12-01T09:00:00.000Z', finished_at: '2026-12-01T10:00:00.000Z', last_error: 'HTTP 502' });
    const given = Array.from({ length: RETRY_CHUNK * 2 + 345 }, (_, i) => dead(i));
    for (let i = 0; i < given.length; i += 100) await t.ctx.db.kysely.insertInto('jobs').values(given.slice(i, i + 100)).execute();
    // Another kind's given-up jobs, between them, stay given up.
    await t.ctx.db.kysely.insertInto('jobs').values({ ...dead(-1), kind: 'milestone.notify' }).execute();
    await t.ctx.db.kysely.insertInto('jobs').values(dead(given.length)).execute();

    assert.equal(await t.ctx.services.jobs.retryGivenUp(admin, 'webhook.deliver'), given.length + 1);
    assert.deepEqual(await t.ctx.repositories.jobs.countByState(), { pending: given.length + 1, dead: 1 });
    const lines = (await t.ctx.repositories.audit.list({ limit: 10 })).filter((e) => e.action === 'jobs.retried');
    assert.deepEqual(lines.map((e) => e.details), [{ kind: 'webhook.deliver', jobs: given.length + 1 }]);
    assert.equal(await t.ctx.services.jobs.retryGivenUp(admin, 'webhook.deliver'), 0, 'nothing left to queue again');
  });

  it('lets another connection write between its transactions, as the writer thread\'s signing batches must (SQLite)', { skip: kind !== 'sqlite' && 'SQLite only' }, async () => {
    const admin = await createUser(t.ctx, { role: 'admin' });
    const given = Array.from({ length: RETRY_CHUNK * 4 }, (_, i) => ({ kind: 'mailing.send', payload: `{"n":${i}}`, state: 'dead' as const, attempts: 8, max_attempts: 8, run_at: '2026-12-01T09:00:00.000Z', created_at: '2026-12-01T09:00:00.000Z', finished_at: '2026-12-01T10:00:00.000Z', last_error: 'x' }));
    for (let i = 0; i < given.length; i += 100) await t.ctx.db.kysely.insertInto('jobs').values(given.slice(i, i + 100)).execute();
    const location = t.database.location;
    assert.ok(location.kind === 'sqlite');
    // Another connection writing as the writer thread does: on a busy lock, again a millisecond later.
    const other = new BetterSqlite3(location.path);
    other.pragma('busy_timeout = 0');
    const write = other.prepare("insert into rate_limit_hits (key, count, expires_at) values (?, 1, 0)");
    const stillGivenUp = other.prepare<[], { n: number }>("select count(*) as n from jobs where kind = 'mailing.send' and state = 'dead'");
    let retrying = true;
    const seen: number[] = [];
    const writes = (async () => {
      for (let i = 0; retrying; i++) {
        try {
          write.run(`probe:${i}`);
          seen.push(stillGivenUp.get()!.n);
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    try {
      assert.equal(await t.ctx.services.jobs.retryGivenUp(admin, 'mailing.send'), given.length);
    } finally {
      retrying = false;
      await writes;
      other.close();
    }
    assert.ok(
      seen.some((n) => n > 0 && n < given.length),
      `a write landed between two of its transactions (given-up jobs left at each write: ${[...new Set(seen)].join(', ')})`,
    );
  });
});

it('takes email addresses out of a failure\'s reason, keeping their domain', () => {
  assert.equal(withoutEmailAddresses('550 <ann.other+x@mail.example.org>: no such user; cc bob@example.net.'), '550 <…@mail.example.org>: no such user; cc …@example.net.');
  assert.equal(withoutEmailAddresses('connect ECONNREFUSED 127.0.0.1:25'), 'connect ECONNREFUSED 127.0.0.1:25');
});
