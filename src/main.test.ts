import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.ts';
import { createContext } from './context.ts';
import { migrateToLatest } from './db/database.ts';
import { freePort } from '../test/helpers/server.ts';
import { createPetition } from '../test/helpers/factories.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// The other tests load the TypeScript sources; `npm start` runs the files built into dist/, one
// bundle per entry point, the threads' entries among them. A thread's entry missing from the
// build would fail only there, with every other test passing.
describe('the built server, as npm start runs it', () => {
  let dir: string;
  let server: ChildProcess;
  let base: string;
  let slug: string;

  before(async () => {
    const built = spawnSync(process.execPath, ['scripts/build.js'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(built.status, 0, built.stderr);
    dir = mkdtempSync(join(tmpdir(), 'undersign-built-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const { TEST_DATABASE_URL: _ignored, ...rest } = process.env;
    const env = { ...rest, NODE_ENV: 'development', DATABASE_URL: `sqlite://${join(dir, 'site.sqlite')}`, PORT: String(port), BASE_URL: base, LOG_LEVEL: 'warn', RATE_LIMIT: 'off' };
    // A database with an open petition, made through the sources before the built server opens it.
    const ctx = createContext(loadConfig(env));
    try {
      await migrateToLatest(ctx.db);
      ({ slug } = (await createPetition(ctx, { input: { title: 'Keep the night buses running' } })).petition);
    } finally {
      await ctx.close();
    }
    server = spawn(process.execPath, ['dist/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      assert.ok(i < 200, 'the built server answered within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves pages and files, signs on its SQLite writer thread, and draws images on its image thread', async () => {
    const page = await fetch(`${base}/petitions/${slug}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Keep the night buses running/);
    const styles = await fetch(`${base}/static/styles.css`);
    assert.equal(styles.status, 200);
    assert.match(await styles.text(), /\{/);
    const signed = await fetch(`${base}/api/v1/petitions/${slug}/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Built Signer', email: 'built@example.net', country: 'GB', postcode: 'SW1A 1AA' }),
    });
    assert.ok(signed.status >= 200 && signed.status < 300, `signing answered ${signed.status}: ${await signed.text()}`);
    for (const image of ['card.png', 'qr.png']) {
      const res = await fetch(`${base}/petitions/${slug}/${image}`);
      assert.equal(res.status, 200, image);
      assert.ok(Buffer.from(await res.arrayBuffer()).subarray(0, 8).equals(PNG_SIGNATURE), `${image} is a PNG`);
    }
  });
});
