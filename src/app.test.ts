import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createTestApp, testConfig, type TestApp } from '../test/helpers/app.ts';
import { textOf } from '../test/helpers/browser-session.ts';
import { createPetition, signerInput } from '../test/helpers/factories.ts';
import { buildApp } from './app.ts';
import { createContext, createLogger } from './context.ts';
import { isDatabaseUnavailable } from './db/dialect.ts';

describe('the web application', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp('sqlite');
  });
  after(() => t.close());

  it('reports health as JSON', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('sends strict security headers on pages', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 200);
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'self'/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'not on a plain-http site');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'strict-origin-when-cross-origin');
    // A page without a form sets no cookie; one with a form sets the CSRF cookie, locked down.
    assert.equal(res.headers['set-cookie'], undefined);
    const form = await t.app.inject({ method: 'GET', url: '/login' });
    const cookie = String(form.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
  });

  it('renders a friendly 404 page for unknown addresses', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/no/such/page' });
    assert.equal(res.statusCode, 404);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(textOf(res.body), /Page not found/);
  });

  it('serves the stylesheet, scripts and icon from memory: compressed when asked, 304 when unchanged, 404 otherwise', async () => {
    const onDisk = readFileSync(new URL('../public/styles.css', import.meta.url));
    const res = await t.app.inject({ method: 'GET', url: '/static/styles.css' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/css/);
    assert.deepEqual(res.rawPayload, onDisk);
    assert.equal(res.headers['cache-control'], 'public, max-age=3600');
    assert.equal(res.headers.vary, 'Accept-Encoding');
    const etag = res.headers.etag as string;
    assert.match(etag, /^"[\w-]{16}"$/);

    const gzipped = await t.app.inject({ method: 'GET', url: '/static/styles.css', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gzipped.rawPayload), onDisk);
    assert.ok(gzipped.rawPayload.length < onDisk.length / 2, 'a fraction of its size');

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const again = await t.app.inject({ method: 'GET', url: '/static/styles.css', headers: { 'if-none-match': ifNoneMatch } });
      assert.equal(again.statusCode, 304, ifNoneMatch);
      assert.equal(again.body, '');
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/static/styles.css', headers: { 'if-none-match': '"stale"' } })).statusCode, 200);

    assert.match((await t.app.inject({ method: 'GET', url: '/static/live-count.js' })).headers['content-type'] as string, /^text\/javascript/);
    assert.equal((await t.app.inject({ method: 'GET', url: '/static/favicon.svg' })).headers['content-type'], 'image/svg+xml');
    assert.equal((await t.app.inject({ method: 'HEAD', url: '/static/styles.css' })).statusCode, 200);
    for (const missing of ['/static/nothing.css', '/static/../package.json', '/static/%2e%2e/package.json', '/static/']) {
      assert.equal((await t.app.inject({ method: 'GET', url: missing })).statusCode, 404, missing);
    }
  });

  it('lists open petitions on the home page', async () => {
    const { petition } = await createPetition(t.ctx);
    const { petition: draft } = await createPetition(t.ctx, { open: false });
    const res = await t.app.inject({ method: 'GET', url: '/' });
    assert.match(res.body, new RegExp(`href="/petitions/${petition.slug}"`));
    assert.doesNotMatch(res.body, new RegExp(`href="/petitions/${draft.slug}"`));
  });

  it('shows sent mail in the dev outbox', async () => {
    const { petition } = await createPetition(t.ctx);
    const signer = signerInput();
    await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signer });
    await t.drainJobs();
    const list = await t.app.inject({ method: 'GET', url: '/_dev/mail' });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, new RegExp(signer.email));
    const id = /href="\/_dev\/mail\/([0-9a-f-]+)"/.exec(list.body)![1];
    const one = await t.app.inject({ method: 'GET', url: `/_dev/mail/${id}` });
    assert.equal(one.statusCode, 200);
    assert.match(one.body, /\/signatures\/confirm\?token=/);
    assert.equal((await t.app.inject({ method: 'GET', url: '/_dev/mail/../../etc/passwd' })).statusCode, 404);
  });

});

describe('logging', () => {
  it('keeps tokens, cookies, IP addresses and emails out of the request logs', async () => {
    const lines: string[] = [];
    const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(line) });
    const t = await createTestApp('sqlite', { config: { env: 'development', logLevel: 'info' }, overrides: { log } });
    try {
      const { petition } = await createPetition(t.ctx);
      const signer = signerInput({ email: 'private.person@example.net' });
      await t.app.inject({
        method: 'POST',
        url: `/api/v1/petitions/${petition.slug}/signatures`,
        payload: signer,
        headers: { cookie: 'undersign_session=very-secret-session' },
      });
      await t.app.inject({ method: 'GET', url: '/signatures/confirm?token=1.secret-token-value', remoteAddress: '203.0.113.9' });
      // Tokens in paths: an unsubscribe link, a team invitation, a supporter's link.
      await t.app.inject({ method: 'GET', url: '/unsubscribe/secret-unsubscribe-token' });
      await t.app.inject({ method: 'GET', url: '/invitations/secret-invitation-token' });
      await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/support/secret-support-token` });
      const all = lines.join('');
      const requests = lines.map((line) => JSON.parse(line) as { msg: string; method?: string; path?: string; status?: number; ms?: number }).filter((line) => line.msg === 'request');
      assert.deepEqual(
        requests.map((r) => [r.method, r.path]),
        [
          ['POST', `/api/v1/petitions/${petition.slug}/signatures`],
          ['GET', '/signatures/confirm'],
          ['GET', '/unsubscribe/:token'],
          ['GET', '/invitations/:token'],
          ['GET', `/petitions/${petition.slug}/support/:token`],
        ],
        'one line a request, with its path',
      );
      assert.equal(requests[0]!.status, 202);
      assert.ok(requests.every((r) => typeof r.status === 'number' && typeof r.ms === 'number'), 'each line has its status and time');
      for (const secret of ['secret-token-value', 'secret-unsubscribe-token', 'secret-invitation-token', 'secret-support-token', 'very-secret-session', '203.0.113.9', 'private.person@example.net', signer.name]) {
        assert.ok(!all.includes(secret), `${secret} must not be logged`);
      }
    } finally {
      await t.close();
    }
  });
});

describe('health when the database is gone', () => {
  it('answers 503', async () => {
    const t = await createTestApp('sqlite');
    await t.ctx.db.kysely.destroy();
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().status, 'unavailable');
    await t.app.close();
  });
});

describe('requests while the database cannot be reached', () => {
  it('answer 503 with Retry-After and a clear message, as a page and as JSON, never 500', async () => {
    // PostgreSQL at an address where nothing listens: every query fails to connect.
    const config = testConfig({ database: { kind: 'postgres', url: 'postgres://undersign@127.0.0.1:9/undersign' }, logLevel: 'silent' });
    const ctx = createContext(config);
    const app = await buildApp(ctx);
    try {
      const api = await app.inject({ method: 'POST', url: '/api/v1/petitions/keep-the-unit-open/signatures', payload: signerInput() });
      assert.equal(api.statusCode, 503, api.body);
      assert.equal(api.headers['retry-after'], '5');
      assert.deepEqual(api.json().error, { code: 'service_unavailable', message: 'The site cannot reach its database just now. Please try again in a few seconds.', field: null });
      const page = await app.inject({ method: 'GET', url: '/petitions/keep-the-unit-open' });
      assert.equal(page.statusCode, 503);
      assert.equal(page.headers['retry-after'], '5');
      assert.match(textOf(page.body), /cannot reach its database just now/);
    } finally {
      await app.close();
    }
  });

  it('recognises a connection dropped mid-transaction and a lock held too long as the database being unavailable, not bad input', () => {
    assert.equal(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true);
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })), true);
    assert.equal(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })), true);
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('invalid input syntax'), { code: '22P02' })), false);
  });
});

