/**
 * Hostile input: property-based tests (fast-check) that throw malformed, oversized, wrong-typed,
 * Unicode-edge, SQL and HTML payloads at the public endpoints and forms, and check that nothing
 * answers 5xx, every API error has a stable code, nothing is stored unescaped, and only
 * legitimate writes reach the database. `npm test` runs a bounded number of cases per endpoint
 * (HOSTILE_RUNS, default 150); `npm run fuzz` runs many more.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { parseSignInput } from '../src/modules/signatures/signatures.schema.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { FormSession } from './helpers/browser-session.ts';
import { describeEachDatabase } from './helpers/db.ts';
import { createPetition, createUser } from './helpers/factories.ts';

const RUNS = Number(process.env.HOSTILE_RUNS ?? 150);

/** Strings that have broken web apps: markup, SQL, control and direction characters, huge ones. */
const nasty = fc.constantFrom(
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'; DROP TABLE signatures; --",
  "' OR '1'='1",
  'Robert\u0000Tables',
  '\u202Egnp.exe',
  'zero\u200Bwidth\u200D',
  '👩‍👩‍👧‍👦🇬🇧',
  'עברית العربية',
  '\uD800',
  '%00%27%22',
  '../../etc/passwd',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  'a'.repeat(10_000),
  '  ',
  '',
);
const text = fc.oneof(nasty, fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 5 }));
/** Any JSON value, or one of the nasty strings, in each field. */
const value = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 }));
const signFields = fc.record(
  { name: value, email: fc.oneof(value, fc.emailAddress(), fc.emailAddress().map((e) => `${e}<script>`)), postcode: value, country: fc.oneof(value, fc.constantFrom('GB', 'gb', 'FR', 'XX')), public_name: value, contact_opt_in: value, support_token: value },
  { requiredKeys: [] },
);
const anyBody = fc.oneof(signFields, fc.anything(), fc.string({ maxLength: 2000 }));

/** Percent-encodes any string byte by byte (lone surrogates become U+FFFD, as a browser sends them). */
const enc = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const asField = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

describeEachDatabase('hostile input', (kind) => {
  let t: TestApp;
  let slug: string;
  let token: string;
  before(async () => {
    t = await createTestApp(kind);
    const owner = await createUser(t.ctx);
    slug = (await createPetition(t.ctx, { owner })).petition.slug;
    token = await t.ctx.services.auth.createApiToken(owner, 'fuzz');
  });
  after(() => t.close());

  /** No 5xx, and JSON API errors carry a stable code and a message. */
  function checkResponse(res: { statusCode: number; body: string; headers: Record<string, unknown> }, api: boolean) {
    assert.ok(res.statusCode < 500, `answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    if (api && res.statusCode >= 400) {
      const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
      assert.equal(typeof body.error?.code, 'string', res.body.slice(0, 300));
      assert.equal(typeof body.error?.message, 'string');
    }
    if (String(res.headers['content-type'] ?? '').startsWith('text/html')) {
      assert.doesNotMatch(res.body, /<script>alert\(1\)<\/script>|<img src=x onerror/, 'markup from input never comes back unescaped');
    }
  }

  it('the JSON signing endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const res = await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${slug}/signatures`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? 'null' });
        checkResponse(res, true);
        if (res.statusCode === 202) assert.doesNotThrow(() => parseSignInput(body), 'only valid signatures are accepted');
      }),
      { numRuns: RUNS },
    );
  });

  it('the signing form, the search, the stats and the confirmation link', async () => {
    const session = new FormSession(t.app);
    await session.get(`/petitions/${slug}`);
    await fc.assert(
      fc.asyncProperty(signFields, text, text, async (fields, query, tokenText) => {
        const form = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, asField(v)]));
        checkResponse(await session.post(`/petitions/${slug}/sign`, form), false);
        checkResponse(await t.app.inject({ method: 'GET', url: `/petitions?q=${enc(query)}&state=${enc(query)}&page=${enc(query)}` }), false);
        checkResponse(await t.app.inject({ method: 'GET', url: `/api/v1/petitions?q=${enc(query)}&limit=${enc(query)}` }), true);
        checkResponse(await t.app.inject({ method: 'GET', url: `/petitions/${slug}/stats?map=${enc(query)}&measure=${enc(query)}` }), false);
        checkResponse(await t.app.inject({ method: 'GET', url: `/signatures/confirm?token=${enc(tokenText)}` }), false);
        checkResponse(await t.app.inject({ method: 'GET', url: `/petitions/${enc(query)}` }), false);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('account forms and the petition API', async () => {
    const session = new FormSession(t.app);
    await session.get('/signup');
    await fc.assert(
      fc.asyncProperty(text, text, value, anyBody, async (email, name, password, body) => {
        checkResponse(await session.post('/signup', { email, name, password: asField(password) }), false);
        checkResponse(await session.post('/login', { email, password: name }), false);
        const created = await t.app.inject({ method: 'POST', url: '/api/v1/petitions', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? 'null' });
        checkResponse(created, true);
        const osdi = await t.app.inject({ method: 'POST', url: `/api/osdi/v1/petitions/${slug}/signatures`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ person: body }) });
        assert.ok(osdi.statusCode < 500, osdi.body.slice(0, 300));
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('malformed addresses and bodies', async () => {
    for (const url of ['/petitions?q=%E0%A4%A', '/petitions/%ZZ', `/petitions/${slug}/stats?map=%00`, '/signatures/confirm?token=%', '/api/v1/petitions?q=%C0%AF']) {
      checkResponse(await t.app.inject({ method: 'GET', url }), url.startsWith('/api/'));
    }
    for (const payload of ['{', '{"name":', '\u0000', 'null', '[]', '"x"', '1e999', '{"__proto__":{"admin":true}}', `{"name":"${'x'.repeat(2_000_000)}"}`]) {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${slug}/signatures`, headers: { 'content-type': 'application/json' }, payload });
      checkResponse(res, true);
      assert.ok(res.statusCode >= 400, payload.slice(0, 40));
    }
    const wrongType = await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${slug}/signatures`, headers: { 'content-type': 'text/plain' }, payload: 'name=x' });
    assert.equal(wrongType.statusCode, 415);
    checkResponse(wrongType, true);
  });

  it('left the database consistent: every stored signature is valid, and pages escape what was stored', async () => {
    const rows = await t.ctx.db.kysely.selectFrom('signatures').selectAll().execute();
    for (const row of rows) {
      assert.doesNotThrow(() => parseSignInput({ name: row.name, email: row.email, postcode: row.postcode, country: row.country }), `stored signature ${row.id} is valid`);
      assert.doesNotMatch(row.name, /\u0000/);
    }
    const counters = await t.ctx.db.kysely.selectFrom('petition_counters').select((eb) => eb.fn.sum<number>('confirmed_count').as('n')).executeTakeFirst();
    const confirmed = await t.ctx.db.kysely.selectFrom('signatures').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'confirmed').executeTakeFirstOrThrow();
    assert.equal(Number(counters?.n ?? 0), Number(confirmed.n), 'counts match the rows');
    const users = await t.ctx.db.kysely.selectFrom('users').select(['email', 'name']).execute();
    for (const u of users) assert.match(u.email, /^[^\s@]+@[^\s@]+$/, 'only valid accounts were created');
    const page = await t.app.inject({ method: 'GET', url: `/petitions/${slug}` });
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, /<script>alert|onerror=alert/);
  });
});
