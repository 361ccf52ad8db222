import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createUser, petitionInput } from '../../../test/helpers/factories.ts';

describeEachDatabase('petitions API', (kind) => {
  let t: TestApp;
  let ownerToken: string;
  let otherToken: string;
  let adminToken: string;

  const api = (method: 'GET' | 'POST', url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    t.app.inject({
      method,
      url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });

  before(async () => {
    t = await createTestApp(kind);
    const { auth } = t.ctx.services;
    ownerToken = await auth.createApiToken(await createUser(t.ctx));
    otherToken = await auth.createApiToken(await createUser(t.ctx));
    adminToken = await auth.createApiToken(await createUser(t.ctx, { role: 'admin' }));
  });
  after(() => t.close());

  it('creates a draft petition with a bearer token', async () => {
    const input = petitionInput({ title: 'Keep the Met’s human trafficking unit open', deadline: '2026-12-15', goal: 1500 });
    const res = await api('POST', '/api/v1/petitions', { token: ownerToken, body: input });
    assert.equal(res.statusCode, 201, res.body);
    const { data } = res.json();
    assert.equal(data.slug, 'keep-the-mets-human-trafficking-unit-open');
    assert.equal(data.state, 'draft');
    assert.equal(data.title, input.title);
    assert.equal(data.action, input.action);
    assert.equal(data.background, input.background);
    assert.deepEqual(data.target, input.target);
    assert.equal(data.signature_count, 0);
    assert.equal(data.goal, 1500);
    assert.equal(data.deadline, '2026-12-15T23:59:59.999Z', 'a date closes at the end of that day, London time');
    assert.equal(data.url, `http://localhost:3000/petitions/${data.slug}`);
    assert.equal(data.opened_at, null);
    assert.match(data.created_at, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(res.headers.location, `/api/v1/petitions/${data.slug}`);
  });

  it('gives a second petition with the same title its own slug', async () => {
    const body = petitionInput({ title: 'Save the Library on Mill Street' });
    const a = (await api('POST', '/api/v1/petitions', { token: ownerToken, body })).json().data.slug;
    const b = (await api('POST', '/api/v1/petitions', { token: ownerToken, body })).json().data.slug;
    assert.equal(a, 'save-the-library-on-mill-street');
    assert.match(b, /^save-the-library-on-mill-street-[0-9a-f]{6}$/);
  });

  it('requires a valid token to write', async () => {
    for (const token of [undefined, 'us_not-a-real-token', 'garbage']) {
      const res = await api('POST', '/api/v1/petitions', { token, body: petitionInput() });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, 'unauthenticated');
    }
  });

  it('explains invalid input field by field', async () => {
    const cases: [unknown, string][] = [
      [{ ...petitionInput(), title: '' }, 'title'],
      [{ ...petitionInput(), title: 42 }, 'title'],
      [{ ...petitionInput(), action: undefined }, 'action'],
      [{ ...petitionInput(), target: undefined }, 'target'],
      [{ ...petitionInput(), target: { name: '' } }, 'target.name'],
      [{ ...petitionInput(), goal: -5 }, 'goal'],
      [{ ...petitionInput(), goal: 'many' }, 'goal'],
      [{ ...petitionInput(), deadline: 'next tuesday' }, 'deadline'],
      [{ ...petitionInput(), deadline: '2001-01-01' }, 'deadline'],
      [{ ...petitionInput(), title: 'x'.repeat(10_000) }, 'title'],
      [{ ...petitionInput(), title: 'A title with a \u0000 NUL byte' }, 'title'],
      [{ ...petitionInput(), target: { name: 'The \u0000 Commissioner' } }, 'target.name'],
      [{ ...petitionInput(), target: { name: 'Commissioner', ['ro\u0000le']: 'x' } }, 'target'],
      [{ ...petitionInput(), background: 'Paragraph with a bell \u0007 in it' }, 'background'],
      [{ ...petitionInput(), target: { name: 'Commissioner', role: ['x'] } }, 'target.role'],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', '/api/v1/petitions', { token: ownerToken, body });
      assert.equal(res.statusCode, 422, `${field}: ${res.body}`);
      const { error } = res.json();
      assert.equal(error.code, 'validation_failed');
      assert.equal(error.field, field);
      assert.equal(typeof error.message, 'string');
    }
  });

  it('answers malformed requests with 4xx JSON errors, never 500', async () => {
    const bad = await api('POST', '/api/v1/petitions', { token: ownerToken, body: '{"title": ', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'invalid_json');
    const text = await api('POST', '/api/v1/petitions', { token: ownerToken, body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().error.code, 'unsupported_media_type');
    const array = await api('POST', '/api/v1/petitions', { token: ownerToken, body: [1, 2] });
    assert.equal(array.statusCode, 422);
    const unknown = await api('GET', '/api/v1/nothing-here');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'not_found');
  });

  it('hides drafts from everyone but their owner and admins', async () => {
    const slug = (await api('POST', '/api/v1/petitions', { token: ownerToken, body: petitionInput() })).json().data.slug;
    assert.equal((await api('GET', `/api/v1/petitions/${slug}`)).statusCode, 404);
    assert.equal((await api('GET', `/api/v1/petitions/${slug}`, { token: otherToken })).statusCode, 404);
    assert.equal((await api('GET', `/api/v1/petitions/${slug}`, { token: ownerToken })).statusCode, 200);
    assert.equal((await api('GET', `/api/v1/petitions/${slug}`, { token: adminToken })).statusCode, 200);
    const missing = await api('GET', '/api/v1/petitions/no-such-petition');
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), {
      error: { code: 'petition_not_found', message: 'There is no petition at this address.', field: null },
    });
  });

  it('lets the owner or an admin open a draft, once', async () => {
    const slug = (await api('POST', '/api/v1/petitions', { token: ownerToken, body: petitionInput() })).json().data.slug;
    const refused = await api('POST', `/api/v1/petitions/${slug}/open`, { token: otherToken });
    assert.equal(refused.statusCode, 404, 'another campaigner cannot even see the draft');
    const opened = await api('POST', `/api/v1/petitions/${slug}/open`, { token: ownerToken });
    assert.equal(opened.statusCode, 200, opened.body);
    assert.equal(opened.json().data.state, 'open');
    assert.match(opened.json().data.opened_at, /^\d{4}-/);
    const again = await api('POST', `/api/v1/petitions/${slug}/open`, { token: ownerToken });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'invalid_state_transition');
    const forbidden = await api('POST', `/api/v1/petitions/${slug}/close`, { token: otherToken });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().error.code, 'forbidden');
    const publicView = await api('GET', `/api/v1/petitions/${slug}`);
    assert.equal(publicView.statusCode, 200);
    assert.equal(publicView.json().data.state, 'open');

    const adminSlug = (await api('POST', '/api/v1/petitions', { token: otherToken, body: petitionInput() })).json().data.slug;
    assert.equal((await api('POST', `/api/v1/petitions/${adminSlug}/open`, { token: adminToken })).json().data.state, 'open');
  });

  it('closes an open petition for its owner', async () => {
    const slug = (await api('POST', '/api/v1/petitions', { token: ownerToken, body: petitionInput() })).json().data.slug;
    await api('POST', `/api/v1/petitions/${slug}/open`, { token: ownerToken });
    const closed = await api('POST', `/api/v1/petitions/${slug}/close`, { token: ownerToken });
    assert.equal(closed.statusCode, 200);
    assert.equal(closed.json().data.state, 'closed');
    assert.match(closed.json().data.closed_at, /^\d{4}-/);
  });
});
