import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { apiClient } from '../../../test/helpers/api.ts';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { signedInSession, textOf } from '../../../test/helpers/browser-session.ts';
import { createPetition, createUser, signerInput } from '../../../test/helpers/factories.ts';
import { confirmationPath, mailsTo } from '../../../test/helpers/mail.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describeEachDatabase('webhooks', (kind) => {
  let t: TestApp;
  let receiver: Server;
  let receiverUrl: string;
  let received: Received[];
  let failNext = 0;
  let owner: User;
  let ownerApi: ReturnType<typeof apiClient>;
  let petition: Petition;
  let clockOffset = 0;

  before(async () => {
    received = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end();
          return;
        }
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    t = await createTestApp(kind, { overrides: { clock: () => new Date(Date.now() + clockOffset) } });
    owner = await createUser(t.ctx);
    ownerApi = apiClient(t.app, await t.ctx.services.auth.createApiToken(owner));
    ({ petition } = await createPetition(t.ctx, { owner }));
  });
  after(async () => {
    await t.close();
    await new Promise((r) => receiver.close(r));
  });

  it('delivers signed events for the petition, with signers’ details only when allowed', async () => {
    const created = await ownerApi('POST', '/api/v1/webhooks', { url: receiverUrl, events: ['signature.confirmed', 'update.published'], petition: petition.slug });
    assert.equal(created.statusCode, 201, created.body);
    const secret = created.json().data.secret as string;
    assert.match(secret, /^whsec_/);
    assert.equal((await ownerApi('GET', `/api/v1/webhooks?petition=${petition.slug}`)).json().data[0].secret, undefined, 'the secret is shown once');

    const signer = signerInput();
    await apiClient(t.app)('POST', `/api/v1/petitions/${petition.slug}/signatures`, signer);
    await t.drainJobs();
    await t.app.inject({ method: 'GET', url: confirmationPath((await mailsTo(t.ctx, signer.email))[0]!.text) });
    await ownerApi('POST', `/api/v1/petitions/${petition.slug}/updates`, { title: 'An update for the CRM', body: 'Hello.' });
    await t.drainJobs();
    await t.drainJobs();

    assert.deepEqual(received.map((r) => r.headers['undersign-event']).sort(), ['signature.confirmed', 'update.published']);
    for (const r of received) {
      const [ts, v1] = String(r.headers['undersign-signature']).split(',');
      const expected = createHmac('sha256', secret).update(`${ts!.slice(2)}.${r.body}`).digest('hex');
      assert.equal(v1, `v1=${expected}`, 'the signature verifies with the secret');
    }
    const confirmed = JSON.parse(received.find((r) => r.headers['undersign-event'] === 'signature.confirmed')!.body);
    assert.equal(confirmed.event, 'signature.confirmed');
    assert.equal(confirmed.petition.slug, petition.slug);
    assert.equal(confirmed.petition.signature_count, 1);
    assert.equal(confirmed.data.postcode_district, 'SW1A');
    assert.equal(confirmed.data.email, undefined, 'no personal data unless the owner enabled it');
    assert.doesNotMatch(received.map((r) => r.body).join(''), new RegExp(signer.email));
  });

  it('retries with backoff when the endpoint fails, and keeps a delivery log', async () => {
    const created = (await ownerApi('POST', '/api/v1/webhooks', { url: receiverUrl, events: ['petition.closed'], petition: petition.slug, include_personal_data: true })).json().data;
    received = [];
    failNext = 1;
    await ownerApi('POST', `/api/v1/petitions/${petition.slug}/close`);
    await t.drainJobs();
    assert.equal(received.length, 0);
    let log = (await ownerApi('GET', `/api/v1/webhooks?petition=${petition.slug}`)).json().data.find((w: { id: number }) => w.id === created.id);
    assert.equal(log.recent_deliveries[0].status, 'failing');
    assert.equal(log.recent_deliveries[0].response_status, 500);
    clockOffset = 10 * 60_000;
    await t.drainJobs();
    assert.equal(received.length, 1);
    assert.equal(received[0]!.headers['undersign-event'], 'petition.closed');
    log = (await ownerApi('GET', `/api/v1/webhooks?petition=${petition.slug}`)).json().data.find((w: { id: number }) => w.id === created.id);
    assert.equal(log.recent_deliveries[0].status, 'delivered');
    assert.equal(log.recent_deliveries[0].attempts, 2);
    const stored = await t.ctx.db.kysely.selectFrom('webhook_deliveries').select('payload').where('id', '=', log.recent_deliveries[0].id).executeTakeFirstOrThrow();
    assert.equal(stored.payload, '', 'a delivered event keeps no payload (it may hold signers’ details)');

    // The log forgets deliveries after thirty days.
    const logged = async () => Number((await t.ctx.db.kysely.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await logged();
    assert.ok(before > 0);
    await t.ctx.services.webhooks.forgetOldDeliveries();
    assert.equal(await logged(), before, 'none is that old yet');
    clockOffset += 31 * 86_400_000;
    await t.ctx.services.webhooks.forgetOldDeliveries();
    assert.equal(await logged(), 0);
    clockOffset -= 31 * 86_400_000;
  });

  it('sends a test event, and keeps webhooks to their owners', async () => {
    const created = (await ownerApi('POST', '/api/v1/webhooks', { url: receiverUrl, events: ['petition.opened'], petition: petition.slug })).json().data;
    received = [];
    assert.equal((await ownerApi('POST', `/api/v1/webhooks/${created.id}/test`)).statusCode, 202);
    await t.drainJobs();
    assert.equal(received[0]?.headers['undersign-event'], 'ping');

    const outsider = apiClient(t.app, await t.ctx.services.auth.createApiToken(await createUser(t.ctx)));
    assert.equal((await outsider('POST', '/api/v1/webhooks', { url: receiverUrl, events: ['petition.opened'], petition: petition.slug })).statusCode, 403);
    assert.equal((await outsider('POST', '/api/v1/webhooks', { url: receiverUrl, events: ['petition.opened'] })).statusCode, 403, 'site-wide webhooks are for admins');
    assert.equal((await outsider('DELETE', `/api/v1/webhooks/${created.id}`)).statusCode, 404);
    assert.equal((await outsider('POST', `/api/v1/webhooks/${created.id}/test`)).statusCode, 404);
    const bad = await ownerApi('POST', '/api/v1/webhooks', { url: 'http://example.org/hook', events: ['petition.opened'], petition: petition.slug });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().error.field, 'url');
    assert.equal((await ownerApi('POST', '/api/v1/webhooks', { url: receiverUrl, events: ['nonsense'], petition: petition.slug })).statusCode, 422);
    assert.equal((await ownerApi('DELETE', `/api/v1/webhooks/${created.id}`)).statusCode, 204);
  });

  it('gives admins a page for site-wide webhooks: add, see the secret once, test, remove', async () => {
    const admin = await createUser(t.ctx, { role: 'admin' });
    const moderator = await createUser(t.ctx, { role: 'moderator' });
    assert.equal((await t.app.inject({ method: 'GET', url: '/admin/webhooks' })).statusCode, 303, 'sign in first');
    assert.equal((await (await signedInSession(t.app, moderator.email)).get('/admin/webhooks')).statusCode, 403);

    const session = await signedInSession(t.app, admin.email);
    const queue = await session.get('/admin');
    assert.match(queue.body, /href="\/admin\/webhooks"/);
    const page = await session.get('/admin/webhooks');
    assert.equal(page.statusCode, 200);
    assert.match(textOf(page.body), /Site-wide webhooks .* any petition on the site/);
    const bad = await session.post('/admin/webhooks', { url: 'http://example.org/hook', events: 'petition.opened' });
    assert.equal(bad.statusCode, 422);
    const added = await session.post('/admin/webhooks', { url: receiverUrl, events: 'petition.opened' });
    assert.equal(added.statusCode, 201);
    assert.match(textOf(added.body), /Signing secret \(shown only now\): whsec_/);
    const row = await t.ctx.db.kysely.selectFrom('webhooks').select(['id', 'petition_id']).where('owner_id', '=', admin.id).executeTakeFirstOrThrow();
    assert.equal(row.petition_id, null, 'site-wide');
    received = [];
    assert.equal((await session.post(`/admin/webhooks/${row.id}/test`, {})).statusCode, 303);
    await t.drainJobs();
    assert.equal(received[0]?.headers['undersign-event'], 'ping');
    assert.doesNotMatch(textOf((await session.get('/admin/webhooks')).body), /Signing secret/, 'the secret is not shown again');
    assert.equal((await session.post(`/admin/webhooks/${row.id}/delete`, {})).statusCode, 303);
    assert.doesNotMatch((await session.get('/admin/webhooks')).body, new RegExp(receiverUrl.replace(/[.]/g, '\\.')));
  });
});
