import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';

const BREACHED = 'correct horse battery';

describe('the optional breached-password check', () => {
  let server: Server;
  let t: TestApp;
  let requested: string[] = [];
  before(async () => {
    // A stand-in for the Pwned Passwords range API: it only ever sees a five-character prefix.
    const hash = createHash('sha1').update(BREACHED).digest('hex').toUpperCase();
    server = createServer((req, res) => {
      const prefix = req.url!.split('/').pop()!;
      requested.push(prefix);
      res.end(prefix === hash.slice(0, 5) ? `0000000000000000000000000000000000A:0\r\n${hash.slice(5)}:3303003\r\n` : '0000000000000000000000000000000000B:1\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t = await createTestApp('sqlite', { config: { passwordBreachCheck: true, passwordBreachApi: `http://127.0.0.1:${(server.address() as AddressInfo).port}/range/` } });
  });
  after(async () => {
    await t.close();
    await new Promise((r) => server.close(r));
  });

  it('refuses a breached password at sign-up, sending only a hash prefix', async () => {
    requested = [];
    await assert.rejects(t.ctx.services.users.signUp({ email: 'new@example.org', name: 'New Person', password: BREACHED }), (err: { fields: Record<string, string> }) => {
      assert.match(err.fields.password!, /appeared in a data breach/);
      return true;
    });
    assert.deepEqual(requested.map((p) => p.length), [5]);
    await t.ctx.services.users.signUp({ email: 'new@example.org', name: 'New Person', password: 'a rarer passphrase 4417' });
    assert.ok(await t.ctx.services.users.findByEmail('new@example.org'));
  });

  it('lets people sign up when the service cannot be reached', async () => {
    const offline = await createTestApp('sqlite', { config: { passwordBreachCheck: true, passwordBreachApi: 'http://127.0.0.1:9/range/' } });
    try {
      await offline.ctx.services.users.signUp({ email: 'other@example.org', name: 'Other Person', password: BREACHED });
      assert.ok(await offline.ctx.services.users.findByEmail('other@example.org'));
    } finally {
      await offline.close();
    }
  });
});
