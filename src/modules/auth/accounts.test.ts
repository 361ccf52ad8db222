import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { FormSession, signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { mailsTo } from '../../../test/helpers/mail.ts';

const linkIn = (text: string, path: string) => {
  const match = new RegExp(`https?://[^/\\s]+(${path.replace('?', '\\?')}\\S+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in:\n${text}`);
  return match[1]!;
};

describeEachDatabase('campaigner accounts', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  it('signs up, confirms the address from the email, and is signed in', async () => {
    const browser = new FormSession(t.app);
    await browser.get('/signup');
    const invalid = await browser.post('/signup', { name: '', email: 'nope', password: 'short' });
    assert.equal(invalid.statusCode, 422);
    for (const field of ['name', 'email', 'password']) assert.match(invalid.body, new RegExp(`id="f-${field}-error"`), field);
    assert.match(invalid.body, /value="nope"/);

    const res = await browser.post('/signup', { name: 'Claude Moraes', email: 'Claude@Example.org', password: 'a decent long password' });
    assert.equal(res.statusCode, 200);
    assert.match(textOf(res.body), /Check your email/);

    const early = await new FormSession(t.app).get('/login');
    assert.equal(early.statusCode, 200);
    const notYet = new FormSession(t.app);
    await notYet.get('/login');
    const blocked = await notYet.post('/login', { email: 'claude@example.org', password: 'a decent long password' });
    assert.equal(blocked.statusCode, 403);
    assert.match(textOf(blocked.body), /Confirm your email address first/);

    await t.drainJobs();
    const mails = await mailsTo(t.ctx, 'claude@example.org');
    assert.ok(mails.length >= 1);
    const confirm = linkIn(mails[0]!.text, '/account/confirm?token=');
    const confirmed = await browser.get(confirm);
    assert.equal(confirmed.statusCode, 200);
    assert.match(textOf(confirmed.body), /Your email address is confirmed/);
    assert.equal((await browser.get('/account')).statusCode, 200, 'signed in');
    assert.equal((await browser.get(confirm)).statusCode, 200, 'following the link again is harmless');
  });

  it('answers a sign-up for an existing address exactly like a new one, and emails the owner instead', async () => {
    const first = new FormSession(t.app);
    await first.get('/signup');
    const a = await first.post('/signup', { name: 'Someone', email: 'twice@example.org', password: 'password number one' });
    const second = new FormSession(t.app);
    await second.get('/signup');
    const b = await second.post('/signup', { name: 'Someone else', email: 'TWICE@example.org', password: 'password number two' });
    assert.equal(a.statusCode, b.statusCode);
    assert.equal(textOf(a.body), textOf(b.body));
    await t.drainJobs();
    const subjects = (await mailsTo(t.ctx, 'twice@example.org')).map((m) => m.subject).sort();
    assert.deepEqual(subjects, ['Confirm your email address for Undersign', 'You already have an account on Undersign']);
  });

  it('resets a forgotten password once, ending every session', async () => {
    await t.ctx.services.users.createUser({ email: 'forgetful@example.org', name: 'Forgetful', password: 'the old password', role: 'campaigner' });
    const elsewhere = await signedInSession(t.app, 'forgetful@example.org', 'the old password');

    const browser = new FormSession(t.app);
    await browser.get('/password/forgot');
    const unknown = await browser.post('/password/forgot', { email: 'nobody-here@example.org' });
    const known = await browser.post('/password/forgot', { email: 'forgetful@example.org' });
    assert.equal(textOf(unknown.body), textOf(known.body), 'says nothing about who has an account');
    await t.drainJobs();
    assert.equal((await mailsTo(t.ctx, 'nobody-here@example.org')).length, 0);
    const link = linkIn((await mailsTo(t.ctx, 'forgetful@example.org')).at(-1)!.text, '/password/reset?token=');

    const form = await browser.get(link);
    assert.equal(form.statusCode, 200);
    const token = decodeURIComponent(link.split('token=')[1]!);
    const weak = await browser.post('/password/reset', { token, password: 'short' });
    assert.equal(weak.statusCode, 422);
    const done = await browser.post('/password/reset', { token, password: 'a brand new password' });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account');

    assert.equal((await elsewhere.get('/account')).statusCode, 303, 'the other session ended');
    assert.equal((await browser.get(link)).statusCode, 404, 'the link works once');
    assert.equal((await t.ctx.services.users.verifyCredentials('forgetful@example.org', 'the old password')).status, 'invalid');
    assert.equal((await t.ctx.services.users.verifyCredentials('forgetful@example.org', 'a brand new password')).status, 'ok');
  });

  it('signs out on every device', async () => {
    await t.ctx.services.users.createUser({ email: 'two-devices@example.org', name: 'Two', password: 'a long password', role: 'campaigner' });
    const phone = await signedInSession(t.app, 'two-devices@example.org', 'a long password');
    const laptop = await signedInSession(t.app, 'two-devices@example.org', 'a long password');
    const res = await laptop.post('/account/sign-out-everywhere', {});
    assert.equal(res.statusCode, 200);
    assert.equal((await phone.get('/account')).statusCode, 303);
    assert.equal((await laptop.get('/account')).statusCode, 303);
  });
});
