import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createUser, petitionInput } from '../../../test/helpers/factories.ts';
import { mailsTo } from '../../../test/helpers/mail.ts';
import type { User } from '../users/users.service.ts';

describeEachDatabase('moderation: submit, publish, reject, correct, hide, close', (kind) => {
  let t: TestApp;
  let owner: ReturnType<typeof apiClient>;
  let other: ReturnType<typeof apiClient>;
  let moderator: ReturnType<typeof apiClient>;
  let admin: ReturnType<typeof apiClient>;
  let ownerEmail: string;
  let ownerUser: User;
  let moderatorUser: User;
  const anonymous = () => apiClient(t.app);

  before(async () => {
    t = await createTestApp(kind, { config: { moderation: true } });
    const { auth } = t.ctx.services;
    ownerUser = await createUser(t.ctx);
    ownerEmail = ownerUser.email;
    owner = apiClient(t.app, await auth.createApiToken(ownerUser));
    other = apiClient(t.app, await auth.createApiToken(await createUser(t.ctx)));
    moderatorUser = await createUser(t.ctx, { role: 'moderator' });
    moderator = apiClient(t.app, await auth.createApiToken(moderatorUser));
    admin = apiClient(t.app, await auth.createApiToken(await createUser(t.ctx, { role: 'admin' })));
  });
  after(() => t.close());

  const draft = async (input: Record<string, unknown> = {}) => {
    const res = await owner('POST', '/api/v1/petitions', petitionInput(input));
    assert.equal(res.statusCode, 201, res.body);
    return res.json().data.slug as string;
  };
  const auditActions = async (slug: string) =>
    (await t.ctx.db.kysely
      .selectFrom('audit_log')
      .innerJoin('petitions', 'petitions.id', 'audit_log.petition_id')
      .select('audit_log.action')
      .where('petitions.slug', '=', slug)
      .orderBy('audit_log.id')
      .execute()).map((r) => r.action);

  it('sends a submitted petition through the queue to publication, emailing its owner', async () => {
    const slug = await draft();
    const forbiddenOpen = await owner('POST', `/api/v1/petitions/${slug}/open`);
    assert.equal(forbiddenOpen.statusCode, 403, 'with moderation on, owners cannot open their own');

    const submitted = await owner('POST', `/api/v1/petitions/${slug}/submit`);
    assert.equal(submitted.statusCode, 200, submitted.body);
    assert.equal(submitted.json().data.state, 'pending');
    assert.match(submitted.json().data.submitted_at, /^\d{4}-/);
    assert.equal((await anonymous()('GET', `/api/v1/petitions/${slug}`)).statusCode, 404, 'pending is not public');
    assert.equal((await owner('PATCH', `/api/v1/petitions/${slug}`, petitionInput())).statusCode, 403, 'no edits while under review');

    const queue = await t.ctx.services.petitions.moderationQueue(moderatorUser);
    assert.ok(queue.some((p) => p.slug === slug));
    await assert.rejects(t.ctx.services.petitions.moderationQueue(ownerUser), /Only moderators/);

    assert.equal((await other('POST', `/api/v1/petitions/${slug}/publish`)).statusCode, 404, 'outsiders cannot even see it');
    assert.equal((await owner('POST', `/api/v1/petitions/${slug}/publish`)).statusCode, 403);
    const published = await moderator('POST', `/api/v1/petitions/${slug}/publish`);
    assert.equal(published.statusCode, 200, published.body);
    assert.equal(published.json().data.state, 'open');
    assert.equal((await anonymous()('GET', `/api/v1/petitions/${slug}`)).json().data.state, 'open');

    await t.drainJobs();
    const [mail] = (await mailsTo(t.ctx, ownerEmail)).filter((m) => /published/.test(m.subject));
    assert.ok(mail, 'the owner hears the good news');
    assert.match(mail.text, new RegExp(`/petitions/${slug}`));
    assert.deepEqual(await auditActions(slug), ['petition.created', 'petition.submitted', 'petition.published']);
  });

  it('rejects with a listed reason, shows it publicly, and publishes after an edit and resubmission', async () => {
    const slug = await draft();
    await owner('POST', `/api/v1/petitions/${slug}/submit`);
    const noReason = await moderator('POST', `/api/v1/petitions/${slug}/reject`, {});
    assert.equal(noReason.statusCode, 422);
    assert.equal(noReason.json().error.field, 'reason');
    const badReason = await moderator('POST', `/api/v1/petitions/${slug}/reject`, { reason: 'because' });
    assert.equal(badReason.statusCode, 422);
    assert.equal(badReason.json().error.field, 'reason');

    const rejected = await moderator('POST', `/api/v1/petitions/${slug}/reject`, {
      reason: 'not_actionable',
      details: 'The Commissioner does not decide this; the Police Authority does.',
    });
    assert.equal(rejected.statusCode, 200, rejected.body);
    const publicView = (await anonymous()('GET', `/api/v1/petitions/${slug}`)).json().data;
    assert.equal(publicView.state, 'rejected');
    assert.deepEqual(publicView.rejection, {
      reason: 'not_actionable',
      label: 'It asks for something the decision-maker cannot do',
      details: 'The Commissioner does not decide this; the Police Authority does.',
    });
    const page = await t.app.inject({ method: 'GET', url: `/petitions/${slug}` });
    assert.match(page.body, /It asks for something the decision-maker cannot do/);
    const welsh = await t.app.inject({ method: 'GET', url: `/petitions/${slug}?lang=cy` });
    assert.match(welsh.body, /Mae’n gofyn am rywbeth na all y sawl sy’n gwneud y penderfyniad ei wneud/, 'the reason in Welsh on a Welsh page');
    await t.drainJobs();
    const rejection = (await mailsTo(t.ctx, ownerEmail)).find((m) => /not published/.test(m.subject));
    assert.ok(rejection);
    assert.match(rejection.text, /Police Authority does/);

    const edited = await owner('PATCH', `/api/v1/petitions/${slug}`, petitionInput({ target: { name: 'Metropolitan Police Authority' } }));
    assert.equal(edited.statusCode, 200, edited.body);
    assert.equal((await owner('POST', `/api/v1/petitions/${slug}/submit`)).json().data.state, 'pending');
    assert.equal((await moderator('POST', `/api/v1/petitions/${slug}/publish`)).json().data.state, 'open');
    assert.deepEqual(await auditActions(slug), [
      'petition.created',
      'petition.submitted',
      'petition.rejected',
      'petition.edited',
      'petition.submitted',
      'petition.published',
    ]);
  });

  it('keeps an open petition’s text fixed for its team, while moderators can correct it with an audit entry', async () => {
    const slug = await draft({ title: 'Keep the Met’s traficking unit open' });
    await admin('POST', `/api/v1/petitions/${slug}/open`);
    const input = petitionInput({ title: 'Keep the Met’s trafficking unit open' });
    const byOwner = await owner('PATCH', `/api/v1/petitions/${slug}`, input);
    assert.equal(byOwner.statusCode, 403);
    assert.match(byOwner.json().error.message, /its text is fixed/);
    const byModerator = await moderator('PATCH', `/api/v1/petitions/${slug}`, input);
    assert.equal(byModerator.statusCode, 200, byModerator.body);
    assert.equal(byModerator.json().data.title, 'Keep the Met’s trafficking unit open');
    const [entry] = await t.ctx.repositories.audit.list({ limit: 1 });
    assert.equal(entry!.action, 'petition.corrected');
    assert.deepEqual((entry!.details.changes as Record<string, unknown>).title, {
      from: 'Keep the Met’s traficking unit open',
      to: 'Keep the Met’s trafficking unit open',
    });
  });

  it('hides a petition from the public for legal reasons, and shows it again', async () => {
    const slug = await draft();
    await admin('POST', `/api/v1/petitions/${slug}/open`);
    assert.equal((await owner('POST', `/api/v1/petitions/${slug}/hide`, { reason: 'Court order' })).statusCode, 403);
    assert.equal((await moderator('POST', `/api/v1/petitions/${slug}/hide`, {})).statusCode, 422);
    const hidden = await moderator('POST', `/api/v1/petitions/${slug}/hide`, { reason: 'Court order 2026/123' });
    assert.equal(hidden.statusCode, 200);
    assert.equal(hidden.json().data.hidden, true);
    assert.equal((await anonymous()('GET', `/api/v1/petitions/${slug}`)).statusCode, 404);
    assert.equal((await owner('GET', `/api/v1/petitions/${slug}`)).statusCode, 200, 'the team still sees it');
    const listed = (await anonymous()('GET', '/api/v1/petitions?per_page=100')).json().data.map((p: { slug: string }) => p.slug);
    assert.ok(!listed.includes(slug));
    const sign = await anonymous()('POST', `/api/v1/petitions/${slug}/signatures`, { name: 'A', email: 'a@example.net', country: 'FR' });
    assert.equal(sign.statusCode, 404);
    await moderator('POST', `/api/v1/petitions/${slug}/unhide`);
    assert.equal((await anonymous()('GET', `/api/v1/petitions/${slug}`)).statusCode, 200);
  });

  it('lets the owner or a moderator close early, but no one else', async () => {
    const slug = await draft();
    await admin('POST', `/api/v1/petitions/${slug}/open`);
    assert.equal((await other('POST', `/api/v1/petitions/${slug}/close`)).statusCode, 403);
    assert.equal((await anonymous()('POST', `/api/v1/petitions/${slug}/close`)).statusCode, 401);
    assert.equal((await moderator('POST', `/api/v1/petitions/${slug}/close`)).json().data.state, 'closed');
  });
});
