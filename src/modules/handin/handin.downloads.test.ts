import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { describeEachDatabase } from '../../../test/helpers/db.ts';
import { createPetition, createUser, seedSignatures } from '../../../test/helpers/factories.ts';
import type { Petition } from '../petitions/petitions.service.ts';

// Several megabytes of CSV: more than the sockets between server and client hold, so a client
// that stops reading keeps the export going.
const SIGNERS = 60_000;

describeEachDatabase('exports over a real connection', (kind) => {
  let t: TestApp;
  let petition: Petition;
  let token: string;
  let base: string;

  before(async () => {
    t = await createTestApp(kind, { config: { maxExportsAtOnce: 1 } });
    const owner = await createUser(t.ctx);
    ({ petition } = await createPetition(t.ctx, { owner }));
    await seedSignatures(t.ctx, petition.id, SIGNERS);
    token = await t.ctx.services.auth.createApiToken(owner);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(() => t.close());

  /** Starts a download and resolves once its first bytes arrived, the rest left unread. */
  function startDownload(path: string): Promise<{ res: IncomingMessage; first: Buffer; cancel(): void }> {
    return new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
        res.once('data', (first: Buffer) => {
          res.pause();
          resolve({ res, first, cancel: () => req.destroy() });
        });
      });
      req.on('error', () => {}); // the cancel's own "socket hang up"
      req.end();
    });
  }

  const csvPath = () => `/api/v1/petitions/${petition.slug}/signatures.csv`;
  const pdfPath = () => `/petitions/${petition.slug}/handin.pdf`;
  const get = (path: string) => t.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });

  /** Waits until an export may start again (its place given back), for at most five seconds. */
  async function placeFreeAgain(): Promise<boolean> {
    for (let i = 0; i < 100; i++) {
      if (t.ctx.services.handin.exportsInProgress === 0) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  /** PostgreSQL: connections of the app still busy (a cursor left open stays "idle in transaction" or "active"). */
  async function busyConnections(): Promise<number> {
    if (kind !== 'postgres') return 0;
    const { rows } = await sql<{ n: number }>`select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`.execute(t.ctx.db.kysely);
    return Number(rows[0]!.n);
  }

  it('refuses another export while one downloads, with 503 and Retry-After, then allows it', async () => {
    const slow = await startDownload(csvPath());
    const refused = await get(csvPath());
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.headers['retry-after'], '30');
    assert.equal(refused.json().error.code, 'service_unavailable');
    assert.match(refused.json().error.message, /Another export of signatures is being downloaded right now/);
    // The staff page's links: the pack, and the CSV through a page route, answer with a page.
    for (const path of [pdfPath(), `/petitions/${petition.slug}/signatures.csv`]) {
      const page = await get(path);
      assert.equal(page.statusCode, 503);
      assert.equal(page.headers['retry-after'], '30');
      assert.match(String(page.headers['content-type']), /text\/html/);
      assert.match(page.body, /Another export of signatures is being downloaded right now/);
    }
    // The slow reader reads on to the end: every signer arrives and the place is free again.
    slow.res.resume();
    const chunks = [slow.first];
    for await (const chunk of slow.res) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString('utf8').trim().split('\n').length, SIGNERS + 1, 'the header and every signer');
    assert.ok(await placeFreeAgain());
    const again = await get(csvPath());
    assert.equal(again.statusCode, 200);
    assert.equal(again.body.trim().split('\n').length, SIGNERS + 1);
  });

  for (const [what, path] of [['signers\' CSV', csvPath], ['hand-in pack', pdfPath]] as const) {
    it(`gives back what a cancelled ${what} held: its place and its rows' connection`, async () => {
      const download = await startDownload(path());
      assert.equal(t.ctx.services.handin.exportsInProgress, 1);
      download.cancel();
      assert.ok(await placeFreeAgain(), 'the cancelled export still holds its place');
      let busy = await busyConnections();
      for (let i = 0; i < 50 && busy > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        busy = await busyConnections();
      }
      assert.equal(busy, 0, 'a connection still holds the cancelled export');
      assert.equal((await get(`/api/v1/petitions/${petition.slug}/summary.csv`)).statusCode, 200);
    });
  }
});
