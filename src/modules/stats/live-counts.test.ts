import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { anotherProcess, createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../../test/helpers/factories.ts';
import { LiveCounts } from './live-counts.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';

/** Reads Server-Sent Events from a live URL; `next` waits for the next `count` event. */
function openStream(url: string): Promise<{ response: IncomingMessage; next: (timeoutMs?: number) => Promise<number>; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const request = get(url, (response) => {
      let buffer = '';
      const counts: number[] = [];
      const waiting: ((n: number) => void)[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!/^event: count$/m.test(block)) continue;
          const count = JSON.parse(/^data: (.*)$/m.exec(block)![1]!).signature_count as number;
          const waiter = waiting.shift();
          if (waiter) waiter(count);
          else counts.push(count);
        }
      });
      const ended = new Promise<void>((done) => response.on('end', done).on('close', done));
      resolve({
        response,
        ended,
        next: (timeoutMs = 5000) =>
          counts.length > 0
            ? Promise.resolve(counts.shift()!)
            : new Promise((done, fail) => {
                const timer = setTimeout(() => fail(new Error('no count event in time')), timeoutMs);
                waiting.push((n) => {
                  clearTimeout(timer);
                  done(n);
                });
              }),
      });
    });
    request.on('error', reject);
  });
}

describeEachDatabase('live counts over Server-Sent Events', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  it('tells a viewer on one app process about a signature confirmed through another', async () => {
    // A second app process on the same database, as behind a load balancer.
    const { app: otherApp, ctx: other, close: closeOther } = await anotherProcess(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    try {
      const { petition } = await createPetition(t.ctx);
      const stream = await openStream(`${base}/petitions/${petition.slug}/live`);
      assert.equal(stream.response.statusCode, 200);
      assert.match(stream.response.headers['content-type']!, /^text\/event-stream/);
      assert.equal(stream.response.headers['cache-control'], 'no-store');
      assert.equal(stream.response.headers['x-content-type-options'], 'nosniff', 'with the security headers of every answer');
      assert.equal(await stream.next(), 0, 'the current count first');

      const input = signerInput();
      const signed = await otherApp.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: input });
      assert.equal(signed.statusCode, 202);
      const row = await other.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(input.email)).executeTakeFirstOrThrow();
      const confirmed = await otherApp.inject({ method: 'GET', url: `/signatures/confirm?token=${other.services.signatures.confirmationTokens.sign(row.id)}` });
      assert.equal(confirmed.statusCode, 200);
      assert.equal(await stream.next(), 1, 'the confirmation on the other process arrives');

      // A second viewer shares the same poll; the page ships the script only while it is open.
      const page = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}` });
      assert.match(page.body, /<script src="\/static\/live-count\.js" defer=""><\/script>/);
      assert.match(page.body, new RegExp(`data-live-count="/petitions/${petition.slug}/live"`));
      assert.equal((await t.app.inject({ method: 'GET', url: '/static/live-count.js' })).statusCode, 200);

      // Closed petitions do not change: 204 tells EventSource not to reconnect.
      const { petition: draft } = await createPetition(t.ctx, { open: false });
      assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${draft.slug}/live` })).statusCode, 404);
      const owner = await t.ctx.services.users.findByEmail((await t.ctx.db.kysely.selectFrom('users').select('email').where('id', '=', petition.ownerId).executeTakeFirstOrThrow()).email);
      await t.ctx.services.petitions.closePetition(owner!, petition.slug);
      assert.equal((await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}/live` })).statusCode, 204);

      // Shutting down ends open streams instead of waiting for viewers to leave.
      const closing = t.app.close();
      await stream.ended;
      await closing;
    } finally {
      await closeOther();
    }
  });
});

it('LiveCounts polls once for every viewer of a petition and turns viewers away when full', async () => {
  let reads = 0;
  let count = 5;
  const live = new LiveCounts({
    read: async (ids) => {
      reads++;
      return new Map(ids.map((id) => [id, count]));
    },
    pollMs: 10,
    maxListeners: 2,
  });
  const seen: number[][] = [[], []];
  const stopA = live.subscribe(1, 5, (n) => seen[0]!.push(n), () => {});
  const stopB = live.subscribe(1, 5, (n) => seen[1]!.push(n), () => {});
  assert.equal(live.subscribe(2, 0, () => {}, () => {}), null, 'full');
  await new Promise((r) => setTimeout(r, 35));
  assert.deepEqual(seen, [[], []], 'nothing sent while the count stands still');
  count = 6;
  await new Promise((r) => setTimeout(r, 35));
  assert.deepEqual(seen, [[6], [6]]);
  const before = reads;
  assert.ok(before >= 3 && before <= 8, `one read per interval for both viewers (${before})`);
  stopA!();
  stopB!();
  assert.equal(live.size, 0);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(reads, before, 'no polling without viewers');
});
