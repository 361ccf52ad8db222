import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { FormSession, textOf } from '../../../test/helpers/browser-session.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createUser, DEFAULT_PASSWORD } from '../../../test/helpers/factories.ts';

describeEachDatabase('campaigner web journey: sign in, create, open', (kind) => {
  let t: TestApp;
  let email: string;

  before(async () => {
    t = await createTestApp(kind);
    email = (await createUser(t.ctx, { name: 'Claude Moraes' })).email;
  });
  after(() => t.close());

  it('sends visitors who are not signed in to the sign-in page, and back afterwards', async () => {
    const browser = new FormSession(t.app);
    const res = await browser.get('/petitions/new');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/login?next=%2Fpetitions%2Fnew');
    const login = await browser.get(res.headers.location!);
    assert.equal(login.statusCode, 200);
    assert.match(login.body, /name="next" value="\/petitions\/new"/);
    const signedIn = await browser.post('/login', { email, password: DEFAULT_PASSWORD, next: '/petitions/new' });
    assert.equal(signedIn.statusCode, 303);
    assert.equal(signedIn.headers.location, '/petitions/new');
    assert.ok(browser.hasCookie('undersign_session'));
  });

  it('refuses a wrong password without saying which part was wrong, keeping the email typed', async () => {
    const browser = new FormSession(t.app);
    await browser.get('/login');
    const res = await browser.post('/login', { email, password: 'wrong password!' });
    assert.equal(res.statusCode, 401);
    assert.match(textOf(res.body), /The email address or password is not right/);
    assert.match(res.body, new RegExp(`value="${email}"`));
    const unknown = await browser.post('/login', { email: 'nobody@example.org', password: 'whatever123' });
    assert.equal(unknown.statusCode, 401);
    assert.ok(!browser.hasCookie('undersign_session'));
  });

  it('refuses forms without a valid CSRF token', async () => {
    const browser = new FormSession(t.app);
    await browser.get('/login');
    const res = await browser.post('/login', { email, password: DEFAULT_PASSWORD }, { csrf: false });
    assert.equal(res.statusCode, 403);
    assert.match(textOf(res.body), /This form has expired or was sent from another site/);
    const cold = await new FormSession(t.app).post('/login', { email, password: DEFAULT_PASSWORD, _csrf: 'made-up' }, { csrf: false });
    assert.equal(cold.statusCode, 403);
  });

  it('never redirects off-site after sign-in', async () => {
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const browser = new FormSession(t.app);
      await browser.get('/login');
      const res = await browser.post('/login', { email, password: DEFAULT_PASSWORD, next });
      assert.equal(res.headers.location, '/account', next);
    }
  });

  it('creates a petition from the form, shows errors next to fields with values kept, then opens it', async () => {
    const browser = new FormSession(t.app);
    await browser.get('/login');
    await browser.post('/login', { email, password: DEFAULT_PASSWORD });
    await browser.get('/petitions/new');

    const invalid = await browser.post('/petitions', {
      title: 'Too short',
      action: 'Do not close the specialist human trafficking unit.',
      background: '<b>Bold</b> claims',
      target_name: '',
      deadline: '2001-01-01',
      goal: 'lots',
    });
    assert.equal(invalid.statusCode, 422);
    assert.match(invalid.body, /class="error-summary"/);
    assert.match(invalid.body, /id="f-title-error"/);
    assert.match(invalid.body, /id="f-target_name-error"/);
    assert.match(invalid.body, /id="f-goal-error"/);
    assert.match(invalid.body, /aria-invalid="true"/);
    assert.match(invalid.body, /value="Too short"/, 'typed values are kept');
    assert.match(invalid.body, /&lt;b&gt;Bold&lt;\/b&gt; claims/, 'and escaped');

    const created = await browser.post('/petitions', {
      title: 'Keep the Met human trafficking unit open',
      action: 'Do not close the specialist human trafficking unit of the Metropolitan Police.',
      background: 'A trafficker was jailed for 16 years last week.\n\nFewer victims will come forward.',
      target_name: 'Sir Ian Blair',
      target_role: 'Commissioner',
      target_organisation: 'Metropolitan Police',
      deadline: '2099-11-15',
      goal: '1,500',
    });
    assert.equal(created.statusCode, 303, created.body);
    const url = created.headers.location!;
    assert.equal(url, '/petitions/keep-the-met-human-trafficking-unit-open');

    const draft = await browser.get(url);
    assert.equal(draft.statusCode, 200);
    const text = textOf(draft.body);
    assert.match(text, /Draft\. Only the petition’s team and moderators can see it/);
    assert.match(text, /Petition to Sir Ian Blair, Commissioner, Metropolitan Police/);
    assert.match(text, /0 signatures of 1,500 goal/);
    assert.doesNotMatch(draft.body, /Sign this petition<\/button>/, 'a draft cannot be signed');
    assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 404, 'the public cannot see a draft');

    const opened = await browser.post(`${url}/open`, {});
    assert.equal(opened.statusCode, 303);
    const open = await browser.get(url);
    assert.match(textOf(open.body), /Open until 15 November 2099/);
    assert.match(open.body, /Sign this petition<\/button>/);
    assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 200, 'now public');

    const account = await browser.get('/account');
    assert.match(textOf(account.body), /Keep the Met human trafficking unit open Open Owner 0/);

    const reopened = await browser.post(`${url}/open`, {});
    assert.equal(reopened.statusCode, 409);
    assert.match(textOf(reopened.body), /cannot become open/);
  });

  it('signs out', async () => {
    const browser = new FormSession(t.app);
    await browser.get('/login');
    await browser.post('/login', { email, password: DEFAULT_PASSWORD });
    assert.equal((await browser.get('/account')).statusCode, 200);
    const out = await browser.post('/logout', {});
    assert.equal(out.statusCode, 303);
    assert.equal((await browser.get('/account')).statusCode, 303);
  });
});
