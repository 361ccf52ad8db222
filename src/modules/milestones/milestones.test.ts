import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser, seedSignatures } from '../../../test/helpers/factories.ts';
import { mailsTo } from '../../../test/helpers/mail.ts';
import { milestoneThresholds, nextGoal, readNthConfirmationTime } from './milestones.ts';

describe('milestone steps', () => {
  it('follows 100, 250, 500, 1,000, 1,500, 2,000, then the 1–2–5 series', () => {
    assert.deepEqual(milestoneThresholds(1_000_000), [100, 250, 500, 1000, 1500, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]);
    assert.deepEqual(milestoneThresholds(99), []);
    assert.deepEqual(milestoneThresholds(1804), [100, 250, 500, 1000, 1500]);
  });

  it('raises a reached goal to the next 1–2–5 step', () => {
    assert.equal(nextGoal(1804), 2000);
    assert.equal(nextGoal(2000), 5000);
    assert.equal(nextGoal(10_500), 20_000);
  });
});

describeEachDatabase('milestones', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  it('records each milestone once, at the moment it was passed, and tells the owners', async () => {
    const { petition, owner } = await createPetition(t.ctx, { input: { goal: 1500 } });
    await seedSignatures(t.ctx, petition.id, 120);
    assert.equal(await t.ctx.services.milestones.detect(), 1);
    assert.equal(await t.ctx.services.milestones.detect(), 0, 'nothing new the second time');

    await seedSignatures(t.ctx, petition.id, 1684);
    const found = await t.ctx.services.milestones.detect();
    assert.equal(found, 5, '250, 500, 1,000, 1,500 and the goal');
    // On a SQLite file the walk to the n-th confirmation runs on the reader thread, with the same answer.
    assert.equal(t.ctx.db.reader !== null, kind === 'sqlite');
    const nth = await t.ctx.repositories.milestones.nthConfirmationTime(petition.id, 1500);
    assert.ok(nth);
    assert.equal(nth, await readNthConfirmationTime(t.ctx.db, petition.id, 1500));
    const list = (await apiClient(t.app)('GET', `/api/v1/petitions/${petition.slug}/milestones`)).json().data;
    assert.deepEqual(
      list.map((m: { kind: string; threshold: number }) => `${m.kind}:${m.threshold}`).sort(),
      ['count:100', 'count:1000', 'count:1500', 'count:250', 'count:500', 'goal:1500'].sort(),
    );
    const firstConfirmed = await t.ctx.db.kysely.selectFrom('signatures').select('confirmed_at').where('petition_id', '=', petition.id).orderBy('confirmed_at').orderBy('id').offset(99).limit(1).executeTakeFirstOrThrow();
    assert.equal(list.find((m: { threshold: number }) => m.threshold === 100).reached_at, firstConfirmed.confirmed_at);

    await t.drainJobs();
    const subjects = (await mailsTo(t.ctx, owner.email)).map((m) => m.subject);
    assert.ok(subjects.some((s) => /^100 signatures/.test(s)));
    assert.ok(subjects.some((s) => /^1,500 signatures/.test(s)));
    assert.ok(subjects.some((s) => /^Goal reached/.test(s)));
    assert.ok(!subjects.some((s) => /^500 signatures/.test(s)), 'one email for a jump, not one per step');

    const page = textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).body);
    assert.match(page, /1,804 signatures of 2,000 next goal/);
    assert.match(page, /The original goal of 1,500 was reached/);
    assert.match(page, /Timeline .*Reached its goal of 1,500 signatures/);
    assert.match(page, /Passed 1,000 signatures/);
  });
});

describeEachDatabase('response and debate thresholds', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind, { config: { responseThreshold: 50, debateThreshold: 80 } });
  });
  after(() => t.close());

  it('looks at a closed petition for a week after it closed, then no more', async () => {
    const closedAt = async (hoursAgo: number) => {
      const { petition } = await createPetition(t.ctx);
      await seedSignatures(t.ctx, petition.id, 100);
      await t.ctx.db.kysely.updateTable('petitions').set({ state: 'closed', closed_at: new Date(Date.now() - hoursAgo * 3_600_000).toISOString() }).where('id', '=', petition.id).execute();
      return petition.slug;
    };
    const recent = await closedAt(6 * 24);
    const old = await closedAt(8 * 24);
    await t.ctx.services.milestones.detect();
    const milestones = async (slug: string) => (await apiClient(t.app)('GET', `/api/v1/petitions/${slug}/milestones`)).json().data.map((m: { kind: string; threshold: number }) => `${m.kind}:${m.threshold}`);
    assert.ok((await milestones(recent)).includes('count:100'), 'passed just before it closed');
    assert.deepEqual(await milestones(old), [], 'closed eight days ago: not looked at');
  });

  it('marks a petition awaiting a response, then for debate, and tells the moderators', async () => {
    const moderator = await createUser(t.ctx, { role: 'moderator' });
    const { petition } = await createPetition(t.ctx);
    const page = async () => textOf((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` })).body);
    assert.match(await page(), /At 50 signatures, Sir Ian Blair is asked to respond \(0 of 50\)/);
    await seedSignatures(t.ctx, petition.id, 60);
    await t.ctx.services.milestones.detect();
    assert.match(await page(), /Awaiting a response from Sir Ian Blair: it passed 50 signatures/);
    assert.match(await page(), /At 80 signatures it is considered for debate \(60 of 80\)/);
    await seedSignatures(t.ctx, petition.id, 30);
    await t.ctx.services.milestones.detect();
    assert.match(await page(), /Being considered for debate: it passed 80 signatures/);
    await t.drainJobs();
    const subjects = (await mailsTo(t.ctx, moderator.email)).map((m) => m.subject);
    assert.ok(subjects.some((s) => /^Response due/.test(s)));
    assert.ok(subjects.some((s) => /^Debate threshold/.test(s)));
  });
});
