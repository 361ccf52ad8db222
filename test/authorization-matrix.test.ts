/**
 * Who may call each petition route: every HTML and API route that acts on one petition, called
 * by each kind of person (anonymous — a signer has no account, so signers are anonymous here —
 * team viewer, editor and owner, another campaigner, a moderator and an admin). Those the rules
 * allow must get past authorisation; everyone else must be turned away (401, 403, 404 or sent to
 * sign in) without anything changing. A route added without an entry here fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { User } from '../src/modules/users/users.service.ts';
import { apiClient } from './helpers/api.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { signedInSession, type FormSession } from './helpers/browser-session.ts';
import { createPetition, createUser, petitionInput, seedSignatures } from './helpers/factories.ts';

type Role = 'anonymous' | 'viewer' | 'editor' | 'owner' | 'other' | 'moderator' | 'admin';
const ROLES: Role[] = ['anonymous', 'viewer', 'editor', 'owner', 'other', 'moderator', 'admin'];

const EVERYONE: Role[] = ROLES;
const TEAM: Role[] = ['viewer', 'editor', 'owner', 'moderator', 'admin'];
const EDITORS: Role[] = ['editor', 'owner'];
const EDITORS_ADMIN: Role[] = ['editor', 'owner', 'admin'];
const OWNERS_ADMIN: Role[] = ['owner', 'admin'];
const CLOSERS: Role[] = ['owner', 'moderator', 'admin'];
const MODERATORS: Role[] = ['moderator', 'admin'];

/** A valid body for routes that check what is sent before (or as part of) deciding who may send it. */
const BODIES: Record<string, (extraMember: string) => Record<string, unknown>> = {
  'POST /petitions/:slug/team/remove': (email) => ({ email }),
  'POST /petitions/:slug/team/role': (email) => ({ email, role: 'editor' }),
  'POST /petitions/:slug/team/invite': () => ({ email: 'newcomer@example.org', role: 'viewer' }),
  'PATCH /api/v1/petitions/:slug': () => petitionInput({ title: 'A corrected title for this petition' }),
  'POST /api/v1/petitions/:slug/reject': () => ({ reason: 'duplicate' }),
  'POST /api/v1/petitions/:slug/hide': () => ({ reason: 'A court order' }),
  'POST /api/v1/petitions/:slug/members': () => ({ email: 'newcomer@example.org', role: 'viewer' }),
  'PATCH /api/v1/petitions/:slug/members': (email) => ({ email, role: 'editor' }),
  'DELETE /api/v1/petitions/:slug/members': (email) => ({ email }),
  'POST /api/v1/petitions/:slug/endorsements': () => ({ kind: 'organisation', name: 'Unison' }),
  'PATCH /api/v1/petitions/:slug/endorsements/:id': () => ({ kind: 'organisation', name: 'Unison London' }),
  'POST /api/v1/petitions/:slug/press': () => ({ outlet: 'Evening Standard', headline: 'Petition grows', date: '2026-11-12', url: 'https://news.example.org/y' }),
  'PATCH /api/v1/petitions/:slug/press/:id': () => ({ outlet: 'Evening Standard', headline: 'Petition grows fast', date: '2026-11-12', url: 'https://news.example.org/y' }),
  'POST /api/v1/petitions/:slug/updates': () => ({ title: 'More news', body: 'Hello again' }),
  'PATCH /api/v1/petitions/:slug/updates/:id': () => ({ title: 'Edited news', body: 'Hello' }),
  'POST /api/v1/petitions/:slug/paper-signatures': () => ({ count: 3, collected_on: '2026-11-10' }),
  'POST /api/v1/petitions/:slug/delivery': () => ({ delivered_at: '2026-11-16', place: 'City Hall', recipient_name: 'The Commissioner', presented_by: 'The campaign team' }),
  'POST /api/v1/petitions/:slug/response': () => ({ responder: 'The Commissioner', responded_on: '2026-11-20', text: 'The unit will stay open.' }),
  'POST /api/v1/petitions/:slug/outcome': () => ({ outcome: 'won', summary: 'The unit stays open.' }),
  'POST /api/v1/petitions/:slug/invalidations': () => ({ domain: 'example.net', reason: 'matrix check' }),
  'POST /petitions/:slug/invalidations': () => ({ domain: 'example.net', reason: 'matrix check' }),
};

/**
 * Every route with a petition in its address, on an open petition, and who may use it. `skip`
 * says why a route is checked elsewhere instead.
 */
const RULES: Record<string, Role[] | { skip: string }> = {
  'GET /petitions/:slug': EVERYONE,
  'GET /petitions/:slug/card.svg': EVERYONE,
  'GET /petitions/:slug/card.png': EVERYONE,
  'GET /petitions/:slug/embed': EVERYONE,
  'GET /petitions/:slug/feed.atom': EVERYONE,
  'GET /petitions/:slug/qr.png': EVERYONE,
  'GET /petitions/:slug/qr.svg': EVERYONE,
  'GET /petitions/:slug/stats': EVERYONE,
  'GET /petitions/:slug/signed': EVERYONE,
  'GET /petitions/:slug/updates/:id': EVERYONE,
  'POST /petitions/:slug/sign': EVERYONE,
  'GET /petitions/:slug/map.svg': { skip: 'answers 404 when no boundaries are imported (src/modules/stats/stats.test.ts)' },
  'GET /petitions/:slug/live': { skip: 'an endless event stream (src/modules/stats/live-counts.test.ts)' },
  'GET /petitions/:slug/support/:token': { skip: 'a signed link, checked in src/modules/petitions/supporters.test.ts' },
  'GET /petitions/:slug/edit': MODERATORS,
  'POST /petitions/:slug/edit': MODERATORS,
  // Allowed, but refused with 409 on an open petition: authorisation comes first.
  'POST /petitions/:slug/submit': ['owner'],
  'POST /petitions/:slug/open': ['admin'],
  'POST /petitions/:slug/publish': MODERATORS,
  'POST /petitions/:slug/reject': MODERATORS,
  'POST /petitions/:slug/close': CLOSERS,
  'POST /petitions/:slug/hide': MODERATORS,
  'POST /petitions/:slug/unhide': MODERATORS,
  'GET /petitions/:slug/team': TEAM,
  'POST /petitions/:slug/team/invite': OWNERS_ADMIN,
  'POST /petitions/:slug/team/role': OWNERS_ADMIN,
  'POST /petitions/:slug/team/remove': OWNERS_ADMIN,
  'GET /petitions/:slug/endorsements': EDITORS,
  'POST /petitions/:slug/endorsements': EDITORS,
  'POST /petitions/:slug/endorsements/invite': EDITORS,
  'POST /petitions/:slug/endorsements/:id/delete': EDITORS,
  'POST /petitions/:slug/endorsements/:id/move': EDITORS,
  'POST /petitions/:slug/endorsements/:id/verify': MODERATORS,
  'POST /petitions/:slug/endorsements/:id/unverify': MODERATORS,
  'GET /petitions/:slug/press': EDITORS,
  'POST /petitions/:slug/press': EDITORS,
  'POST /petitions/:slug/press/:id/delete': EDITORS,
  'GET /petitions/:slug/updates/new': EDITORS,
  'POST /petitions/:slug/updates': EDITORS,
  'GET /petitions/:slug/updates/:id/edit': EDITORS,
  'POST /petitions/:slug/updates/:id/edit': EDITORS,
  'POST /petitions/:slug/updates/:id/delete': EDITORS,
  'GET /petitions/:slug/thanks': EDITORS,
  'POST /petitions/:slug/thanks': EDITORS,
  'GET /petitions/:slug/handin': TEAM,
  'GET /petitions/:slug/handin.pdf': EDITORS_ADMIN,
  'GET /petitions/:slug/signatures.csv': EDITORS_ADMIN,
  'POST /petitions/:slug/handin/delivery': EDITORS,
  'POST /petitions/:slug/handin/outcome': EDITORS,
  'POST /petitions/:slug/handin/paper': EDITORS,
  'POST /petitions/:slug/handin/paper-import': EDITORS,
  'POST /petitions/:slug/handin/paper/:id/delete': EDITORS,
  'POST /petitions/:slug/handin/photo': EDITORS,
  'POST /petitions/:slug/handin/response': EDITORS,
  'GET /petitions/:slug/webhooks': OWNERS_ADMIN,
  'POST /petitions/:slug/webhooks': OWNERS_ADMIN,
  'POST /petitions/:slug/webhooks/:id/delete': OWNERS_ADMIN,
  'POST /petitions/:slug/webhooks/:id/test': OWNERS_ADMIN,
  'GET /petitions/:slug/fraud': MODERATORS,
  'GET /petitions/:slug/fraud/signatures': MODERATORS,
  'GET /petitions/:slug/fraud/state': MODERATORS,
  'POST /petitions/:slug/fraud/refresh': MODERATORS,
  'POST /petitions/:slug/invalidations': MODERATORS,
  'POST /petitions/:slug/invalidations/:id/reinstate': MODERATORS,

  'GET /api/v1/petitions/:slug': EVERYONE,
  'PATCH /api/v1/petitions/:slug': MODERATORS,
  'POST /api/v1/petitions/:slug/submit': ['owner'],
  'POST /api/v1/petitions/:slug/open': ['admin'],
  'POST /api/v1/petitions/:slug/publish': MODERATORS,
  'POST /api/v1/petitions/:slug/reject': MODERATORS,
  'POST /api/v1/petitions/:slug/close': CLOSERS,
  'POST /api/v1/petitions/:slug/hide': MODERATORS,
  'POST /api/v1/petitions/:slug/unhide': MODERATORS,
  'GET /api/v1/petitions/:slug/members': TEAM,
  'POST /api/v1/petitions/:slug/members': OWNERS_ADMIN,
  'PATCH /api/v1/petitions/:slug/members': OWNERS_ADMIN,
  'DELETE /api/v1/petitions/:slug/members': OWNERS_ADMIN,
  'POST /api/v1/petitions/:slug/signatures': EVERYONE,
  'GET /api/v1/petitions/:slug/signatures.csv': EDITORS_ADMIN,
  'GET /api/v1/petitions/:slug/summary.csv': TEAM,
  'GET /api/v1/petitions/:slug/stats': EVERYONE,
  'GET /api/v1/petitions/:slug/stats.csv': EVERYONE,
  'GET /api/v1/petitions/:slug/milestones': EVERYONE,
  'GET /api/v1/petitions/:slug/endorsements': EVERYONE,
  'POST /api/v1/petitions/:slug/endorsements': EDITORS,
  'PATCH /api/v1/petitions/:slug/endorsements/:id': EDITORS,
  'DELETE /api/v1/petitions/:slug/endorsements/:id': EDITORS,
  'POST /api/v1/petitions/:slug/endorsements/:id/verify': MODERATORS,
  'GET /api/v1/petitions/:slug/press': EVERYONE,
  'POST /api/v1/petitions/:slug/press': EDITORS,
  'PATCH /api/v1/petitions/:slug/press/:id': EDITORS,
  'DELETE /api/v1/petitions/:slug/press/:id': EDITORS,
  'GET /api/v1/petitions/:slug/updates': EVERYONE,
  'GET /api/v1/petitions/:slug/updates/:id': EVERYONE,
  'POST /api/v1/petitions/:slug/updates': EDITORS,
  'PATCH /api/v1/petitions/:slug/updates/:id': EDITORS,
  'DELETE /api/v1/petitions/:slug/updates/:id': EDITORS,
  // Batches with their counts (names stay in the signers' export): the team may see them.
  'GET /api/v1/petitions/:slug/paper-signatures': TEAM,
  'POST /api/v1/petitions/:slug/paper-signatures': EDITORS,
  'POST /api/v1/petitions/:slug/delivery': EDITORS,
  'POST /api/v1/petitions/:slug/response': EDITORS,
  'POST /api/v1/petitions/:slug/outcome': EDITORS,
  'GET /api/v1/petitions/:slug/fraud': MODERATORS,
  'POST /api/v1/petitions/:slug/invalidations': MODERATORS,
  'POST /api/v1/petitions/:slug/invalidations/:id/reinstate': MODERATORS,

  'GET /api/osdi/v1/petitions/:slug': EVERYONE,
  'GET /api/osdi/v1/petitions/:slug/signatures': EDITORS_ADMIN,
  'POST /api/osdi/v1/petitions/:slug/signatures': EVERYONE,
};

interface Fixture {
  slug: string;
  ids: Record<string, number>;
  /** A team member no role in the matrix is: the one team routes act on. */
  extraMember: string;
}

describe('authorisation matrix: every petition route × every kind of person', () => {
  let t: TestApp;
  const users = {} as Record<Exclude<Role, 'anonymous'>, User>;
  const sessions = {} as Record<Role, FormSession | null>;
  const tokens = {} as Record<Role, string | undefined>;
  let extraMember: User;

  before(async () => {
    t = await createTestApp('sqlite', { config: { moderation: true } });
    users.owner = await createUser(t.ctx);
    users.editor = await createUser(t.ctx);
    users.viewer = await createUser(t.ctx);
    users.other = await createUser(t.ctx);
    users.moderator = await createUser(t.ctx, { role: 'moderator' });
    users.admin = await createUser(t.ctx, { role: 'admin' });
    extraMember = await createUser(t.ctx);
    sessions.anonymous = null;
    tokens.anonymous = undefined;
    for (const role of ROLES.filter((r) => r !== 'anonymous') as Exclude<Role, 'anonymous'>[]) {
      sessions[role] = await signedInSession(t.app, users[role].email);
      tokens[role] = await t.ctx.services.auth.createApiToken(users[role], 'matrix');
    }
  });
  after(() => t.close());

  /** An open petition with a team and one of everything a route's `:id` may name. */
  async function fixture(route: string): Promise<Fixture> {
    const { petition } = await createPetition(t.ctx, { owner: users.owner });
    const slug = petition.slug;
    const extra = extraMember;
    for (const [userId, role] of [[users.editor.id, 'editor'], [users.viewer.id, 'viewer'], [extra.id, 'viewer']] as const) {
      await t.ctx.db.kysely.insertInto('petition_members').values({ petition_id: petition.id, user_id: userId, role, created_at: new Date().toISOString() }).execute();
    }
    await seedSignatures(t.ctx, petition.id, 3);
    // Only what the route's address names, to keep the matrix quick.
    const ids: Record<string, number> = {};
    if (/endorsements\/:id/.test(route)) ids.endorsement = (await t.ctx.services.endorsements.add(users.owner, slug, { kind: 'organisation', name: 'Anti-Slavery International' })).id;
    if (/press\/:id/.test(route)) ids.press = (await t.ctx.services.press.add(users.owner, slug, { outlet: 'BBC London', headline: 'Petition handed in', date: '2026-11-16', url: 'https://news.example.org/x' })).id;
    if (/updates\/:id/.test(route)) ids.update = (await t.ctx.services.updates.post(users.owner, slug, { title: 'News', body: 'Hello' })).id;
    if (/paper\/:id/.test(route)) ids.paper = (await t.ctx.services.handin.recordPaperBatch(users.owner, slug, { count: 5, collected_on: '2026-11-10' })).id;
    if (/webhooks\/:id/.test(route)) ids.webhook = (await t.ctx.services.webhooks.create(users.owner, { url: 'https://hooks.example.org/x', events: ['signature.confirmed'], petition: slug })).id;
    if (/invalidations\/:id/.test(route)) {
      const invalidation = await t.ctx.services.fraud.invalidate(users.moderator, slug, { domain: 'example.net', reason: 'matrix fixture' });
      await t.ctx.services.fraud.reinstate(users.moderator, slug, invalidation.id);
      ids.invalidation = invalidation.id;
    }
    return { slug, extraMember: extra.email, ids };
  }

  /** The route's address for a fixture (each `:id` is the matching thing on that petition). */
  function address(route: string, f: Fixture): string {
    const path = route.split(' ')[1]!;
    const idKind = /endorsements/.test(path) ? 'endorsement' : /press/.test(path) ? 'press' : /updates/.test(path) ? 'update' : /paper/.test(path) ? 'paper' : /webhooks/.test(path) ? 'webhook' : 'invalidation';
    return path.replace(':slug', f.slug).replace(':id', String(f.ids[idKind]));
  }

  async function call(role: Role, route: string, f: Fixture) {
    const [method] = route.split(' ') as ['GET' | 'POST' | 'PATCH' | 'DELETE'];
    const url = address(route, f);
    const body = BODIES[route]?.(f.extraMember) ?? {};
    if (url.startsWith('/api/')) return apiClient(t.app, tokens[role])(method, url, method === 'GET' ? undefined : body);
    if (method === 'GET') return sessions[role] ? sessions[role].get(url) : t.app.inject({ method: 'GET', url });
    const form = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
    if (sessions[role]) return sessions[role].post(url, form);
    // Anonymous forms: a real CSRF token from a fresh visit, so only authorisation can refuse.
    const { FormSession } = await import('./helpers/browser-session.ts');
    const visitor = new FormSession(t.app);
    await visitor.get(`/petitions/${f.slug}`);
    return visitor.post(url, form);
  }

  const snapshot = async (slug: string) => {
    const id = (await t.ctx.db.kysely.selectFrom('petitions').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()).id;
    const tables = ['petition_members', 'petition_invitations', 'endorsements', 'press_links', 'petition_updates', 'paper_batches', 'deliveries', 'responses', 'webhooks', 'invalidations', 'broadcasts'] as const;
    const counts = await Promise.all(tables.map((table) => t.ctx.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('petition_id', '=', id).executeTakeFirstOrThrow()));
    const row = await t.ctx.db.kysely.selectFrom('petitions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const signatures = await t.ctx.db.kysely.selectFrom('signatures').select(['status']).where('petition_id', '=', id).execute();
    return JSON.stringify([row, counts, signatures]);
  };

  it('lists a rule for every petition route', () => {
    const routes = (t.app as unknown as { registeredRoutes: { method: string; url: string }[] }).registeredRoutes
      .filter((r) => r.method !== 'HEAD' && r.url.includes(':slug'))
      .map((r) => `${r.method} ${r.url}`);
    assert.deepEqual([...new Set(routes)].filter((r) => !(r in RULES)), [], 'routes without a rule');
  });

  it('site pages and APIs that are not about one petition', async () => {
    const SIGNED_IN: Role[] = ['viewer', 'editor', 'owner', 'other', 'moderator', 'admin'];
    const site: [route: string, allowed: Role[]][] = [
      ['GET /account', SIGNED_IN],
      ['GET /petitions/new', SIGNED_IN],
      ['GET /admin', MODERATORS],
      ['GET /admin/audit', MODERATORS],
      ['GET /api/v1/webhooks', ['admin']],
      ['GET /admin/webhooks', ['admin']],
      ['POST /api/v1/petitions', SIGNED_IN],
    ];
    const problems: string[] = [];
    for (const [route, allowed] of site) {
      const [method, url] = route.split(' ') as ['GET' | 'POST', string];
      for (const role of ROLES) {
        const res = url.startsWith('/api/')
          ? await apiClient(t.app, tokens[role])(method, url, method === 'POST' ? petitionInput() : undefined)
          : sessions[role]
            ? await sessions[role].get(url)
            : await t.app.inject({ method, url });
        const turnedAway = [401, 403, 404].includes(res.statusCode) || (res.statusCode === 303 && /\/login/.test(String(res.headers.location)));
        if (allowed.includes(role) === turnedAway || res.statusCode >= 500) problems.push(`${role} ${route} → ${res.statusCode}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  for (const [route, rule] of Object.entries(RULES)) {
    if (!Array.isArray(rule)) continue;
    it(route, async () => {
      const shared = await fixture(route);
      const problems: string[] = [];
      for (const role of ROLES.filter((r) => !rule.includes(r))) {
        const before = await snapshot(shared.slug);
        const res = await call(role, route, shared);
        const turnedAway = [401, 403, 404].includes(res.statusCode) || (role === 'anonymous' && res.statusCode === 303 && /\/login/.test(String(res.headers.location)));
        if (!turnedAway) problems.push(`${role} was let in (${res.statusCode})`);
        if ((await snapshot(shared.slug)) !== before) problems.push(`${role} changed something`);
      }
      for (const role of rule) {
        // Each allowed person changes a petition of their own, so one's change cannot block the next.
        const res = await call(role, route, route.startsWith('GET') ? shared : await fixture(route));
        if ([401, 403].includes(res.statusCode) || res.statusCode >= 500 || (res.statusCode === 404 && !route.startsWith('GET'))) {
          problems.push(`${role} was refused (${res.statusCode}: ${res.body.slice(0, 120)})`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});
