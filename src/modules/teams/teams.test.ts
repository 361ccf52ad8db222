import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser, petitionInput } from '../../../test/helpers/factories.ts';
import { mailsTo } from '../../../test/helpers/mail.ts';
import type { User } from '../users/users.service.ts';

describeEachDatabase('petition teams', (kind) => {
  let t: TestApp;
  let owner: User;
  let ownerApi: ReturnType<typeof apiClient>;
  let slug: string;

  before(async () => {
    t = await createTestApp(kind);
    owner = await createUser(t.ctx, { name: 'Claude' });
    ownerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(owner));
    slug = (await createPetition(t.ctx, { owner, open: false })).petition.slug;
  });
  after(() => t.close());

  /** Invites `email` as `role` and accepts through the emailed link, signed in as that person. */
  const join = async (person: User, role: string) => {
    const res = await ownerApi('POST', `/api/v1/petitions/${slug}/members`, { email: person.email.toUpperCase(), role });
    assert.equal(res.statusCode, 201, res.body);
    await t.drainJobs();
    const mail = (await mailsTo(t.ctx, person.email)).at(-1);
    assert.ok(mail, 'invitation emailed');
    assert.match(mail.subject, /Join the team/);
    const path = /https?:\/\/[^/\s]+(\/invitations\/\S+)/.exec(mail.text)![1]!;
    const browser = await signedInSession(t.app, person.email);
    const page = await browser.get(path);
    assert.equal(page.statusCode, 200);
    assert.match(textOf(page.body), new RegExp(`You are invited as ${role}`));
    const accepted = await browser.post(path, {});
    assert.equal(accepted.statusCode, 303, accepted.body);
    return browser;
  };

  it('invites by email; the invitee joins with the role given, and it is all in the audit log', async () => {
    const editor = await createUser(t.ctx, { name: 'Office staff' });
    await join(editor, 'editor');
    const team = await ownerApi('GET', `/api/v1/petitions/${slug}/members`);
    assert.deepEqual(
      team.json().data.map((m: { email: string; role: string; status: string }) => [m.email, m.role, m.status]),
      [
        [owner.email, 'owner', 'member'],
        [editor.email, 'editor', 'member'],
      ],
    );
    const actions = (await t.ctx.repositories.audit.list({ limit: 10 })).map((e) => e.action);
    assert.ok(actions.includes('team.invited') && actions.includes('team.joined'));
  });

  it('lets an editor edit the draft but not manage the team; a viewer can only look', async () => {
    const editor = await createUser(t.ctx);
    const viewer = await createUser(t.ctx);
    await join(editor, 'editor');
    await join(viewer, 'viewer');
    const editorApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(editor));
    const viewerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(viewer));

    assert.equal((await editorApi('PATCH', `/api/v1/petitions/${slug}`, petitionInput())).statusCode, 200);
    assert.equal((await editorApi('POST', `/api/v1/petitions/${slug}/members`, { email: 'x@example.org', role: 'owner' })).statusCode, 403);
    assert.equal((await viewerApi('GET', `/api/v1/petitions/${slug}`)).statusCode, 200, 'viewers see the draft');
    assert.equal((await viewerApi('GET', `/api/v1/petitions/${slug}/members`)).statusCode, 200);
    assert.equal((await viewerApi('PATCH', `/api/v1/petitions/${slug}`, petitionInput())).statusCode, 403);
    assert.equal((await viewerApi('POST', `/api/v1/petitions/${slug}/submit`)).statusCode, 403);
  });

  it('only accepts an invitation for the address it was sent to, and only once', async () => {
    const invited = await createUser(t.ctx);
    const stranger = await createUser(t.ctx);
    await ownerApi('POST', `/api/v1/petitions/${slug}/members`, { email: invited.email, role: 'viewer' });
    await t.drainJobs();
    const path = /https?:\/\/[^/\s]+(\/invitations\/\S+)/.exec((await mailsTo(t.ctx, invited.email)).at(-1)!.text)![1]!;
    const wrong = await signedInSession(t.app, stranger.email);
    await wrong.get(path);
    const refused = await wrong.post(path, {});
    assert.equal(refused.statusCode, 403);
    assert.match(textOf(refused.body), new RegExp(`sent to ${invited.email}`));
    const right = await signedInSession(t.app, invited.email);
    await right.get(path);
    assert.equal((await right.post(path, {})).statusCode, 303);
    assert.equal((await right.get(path)).statusCode, 404, 'used up');
    assert.equal((await t.app.inject({ method: 'GET', url: '/invitations/1.forged' })).statusCode, 404);
  });

  it('changes roles and removes members, but never the last owner', async () => {
    const lastOwner = await ownerApi('PATCH', `/api/v1/petitions/${slug}/members`, { email: owner.email, role: 'editor' });
    assert.equal(lastOwner.statusCode, 409);
    assert.match(lastOwner.json().error.message, /at least one owner/);
    assert.equal((await ownerApi('DELETE', `/api/v1/petitions/${slug}/members`, { email: owner.email })).statusCode, 409);

    const colleague = await createUser(t.ctx);
    await join(colleague, 'viewer');
    const promoted = await ownerApi('PATCH', `/api/v1/petitions/${slug}/members`, { email: colleague.email, role: 'owner' });
    assert.equal(promoted.statusCode, 200);
    // With a second owner, the first may now step down.
    assert.equal((await ownerApi('PATCH', `/api/v1/petitions/${slug}/members`, { email: owner.email, role: 'editor' })).statusCode, 200);
    const colleagueApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(colleague));
    assert.equal((await colleagueApi('PATCH', `/api/v1/petitions/${slug}/members`, { email: owner.email, role: 'owner' })).statusCode, 200);

    const removed = await ownerApi('DELETE', `/api/v1/petitions/${slug}/members?email=${encodeURIComponent(colleague.email)}`);
    assert.equal(removed.statusCode, 200, removed.body);
    assert.ok(!removed.json().data.some((m: { email: string }) => m.email === colleague.email));
    assert.equal((await colleagueApi('GET', `/api/v1/petitions/${slug}`)).statusCode, 404, 'a removed member loses access to the draft');
  });

  it('withdraws an open invitation, and manages the team from the web page', async () => {
    await ownerApi('POST', `/api/v1/petitions/${slug}/members`, { email: 'volunteer@example.org', role: 'editor' });
    const browser = await signedInSession(t.app, owner.email);
    const page = await browser.get(`/petitions/${slug}/team`);
    assert.equal(page.statusCode, 200);
    assert.match(textOf(page.body), /Invited volunteer@example\.org editor/);
    const withdrawn = await browser.post(`/petitions/${slug}/team/remove`, { email: 'volunteer@example.org' });
    assert.equal(withdrawn.statusCode, 303);
    assert.doesNotMatch((await browser.get(`/petitions/${slug}/team`)).body, /volunteer@example\.org/);

    const invalid = await browser.post(`/petitions/${slug}/team/invite`, { email: 'not an email', role: 'editor' });
    assert.equal(invalid.statusCode, 422);
    assert.match(invalid.body, /id="f-email-error"/);
    const invited = await browser.post(`/petitions/${slug}/team/invite`, { email: 'press@example.org', role: 'viewer' });
    assert.equal(invited.statusCode, 303);
    assert.match(textOf((await browser.get(`/petitions/${slug}/team`)).body), /Invited press@example\.org viewer/);
  });

  it('keeps teams private: an outsider gets "not found" for another campaigner’s draft team', async () => {
    const outsider = apiClient(t.app, await t.ctx.services.auth.createApiToken(await createUser(t.ctx)));
    assert.equal((await outsider('GET', `/api/v1/petitions/${slug}/members`)).statusCode, 404);
    assert.equal((await outsider('POST', `/api/v1/petitions/${slug}/members`, { email: 'a@b.org', role: 'owner' })).statusCode, 404);
    assert.equal((await apiClient(t.app)('GET', `/api/v1/petitions/${slug}/members`)).statusCode, 401);
  });
});
