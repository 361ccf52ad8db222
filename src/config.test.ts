import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseDatabaseUrl } from './config.ts';

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-config-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('loadConfig', () => {
  it('defaults to SQLite in ./data and port 3000, generating and keeping a dev secret', () => {
    withTempDir((dir) => {
      const db = join(dir, 'undersign.sqlite');
      const config = loadConfig({ DATABASE_URL: `sqlite://${db}` });
      assert.equal(config.port, 3000);
      assert.equal(config.host, '127.0.0.1');
      assert.equal(config.baseUrl, 'http://127.0.0.1:3000');
      assert.deepEqual(config.database, { kind: 'sqlite', path: db });
      assert.equal(config.smtpUrl, null);
      assert.ok(config.secretKey.length >= 32);
      assert.ok(existsSync(join(dir, 'secret.key')));
      assert.equal(loadConfig({ DATABASE_URL: `sqlite://${db}` }).secretKey, config.secretKey, 'kept across restarts');
      assert.equal(readFileSync(join(dir, 'secret.key'), 'utf8').trim(), config.secretKey);
    });
  });

  it('takes rejection reasons with their Welsh wording, and no Welsh for reasons the site replaced', () => {
    const env = { DATABASE_URL: 'postgres://u:p@db:5432/undersign', SECRET_KEY: 'x'.repeat(32) };
    const defaults = loadConfig(env);
    assert.equal(defaults.rejectionReasonsWelsh.duplicate, 'Mae’n dyblygu deiseb sydd eisoes ar agor');
    assert.deepEqual(Object.keys(defaults.rejectionReasonsWelsh).sort(), Object.keys(defaults.rejectionReasons).sort());
    const own = loadConfig({ ...env, REJECTION_REASONS: 'out_of_area=Not a matter for this council|duplicate=Already asked' });
    assert.deepEqual(own.rejectionReasons, { out_of_area: 'Not a matter for this council', duplicate: 'Already asked' });
    assert.deepEqual(own.rejectionReasonsWelsh, {}, 'the default Welsh would not match the site’s own wording');
    const both = loadConfig({ ...env, REJECTION_REASONS: 'out_of_area=Not a matter for this council', REJECTION_REASONS_CY: 'out_of_area=Nid yw’n fater i’r cyngor hwn' });
    assert.deepEqual(both.rejectionReasonsWelsh, { out_of_area: 'Nid yw’n fater i’r cyngor hwn' });
    assert.throws(() => loadConfig({ ...env, REJECTION_REASONS_CY: 'Not a code' }), (err: unknown) => err instanceof ConfigError && /REJECTION_REASONS_CY/.test(err.message));
  });

  it('reads the documented variables', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      BASE_URL: 'https://petitions.example.org/',
      DATABASE_URL: 'postgres://u:p@db:5432/undersign',
      SMTP_URL: 'smtp://user:pass@mail.example.org:587',
      MAIL_FROM: 'Petitions <petitions@example.org>',
      SECRET_KEY: 'x'.repeat(40),
      NODE_ENV: 'production',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.baseUrl, 'https://petitions.example.org');
    assert.deepEqual(config.database, { kind: 'postgres', url: 'postgres://u:p@db:5432/undersign' });
    assert.equal(config.smtpUrl, 'smtp://user:pass@mail.example.org:587');
    assert.equal(config.mailFrom, 'Petitions <petitions@example.org>');
  });

  it('names the variable that is wrong', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: Error) => e instanceof ConfigError && /PORT/.test(e.message));
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
    assert.throws(() => loadConfig({ SECRET_KEY: 'short' }), /SECRET_KEY/);
    assert.throws(() => loadConfig({ SMTP_URL: 'http://nope' }), /SMTP_URL/);
  });

  it('hashes staff passwords with argon2id at its library defaults, or a set cost no lower than OWASP\'s minimum', () => {
    withTempDir((dir) => {
      const env = { DATABASE_URL: `sqlite://${join(dir, 'undersign.sqlite')}` };
      assert.deepEqual(loadConfig(env).passwordHashing, { memoryCost: 65_536, timeCost: 3, parallelism: 4 });
      assert.deepEqual(loadConfig({ ...env, PASSWORD_HASH_MEMORY_KIB: '19456', PASSWORD_HASH_TIME_COST: '2', PASSWORD_HASH_PARALLELISM: '1' }).passwordHashing, { memoryCost: 19_456, timeCost: 2, parallelism: 1 });
      assert.throws(() => loadConfig({ ...env, PASSWORD_HASH_MEMORY_KIB: '1024' }), /PASSWORD_HASH_MEMORY_KIB/);
      assert.throws(() => loadConfig({ ...env, PASSWORD_HASH_TIME_COST: '1' }), /PASSWORD_HASH_TIME_COST/);
    });
  });

  it('serves metrics only when METRICS_PORT is set, on a port apart from the site’s', () => {
    const env = { DATABASE_URL: 'postgres://u:p@db:5432/undersign', SECRET_KEY: 'x'.repeat(32) };
    assert.equal(loadConfig(env).metrics, null);
    assert.deepEqual(loadConfig({ ...env, METRICS_PORT: '9464' }).metrics, { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(loadConfig({ ...env, METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' }).metrics, { host: '10.0.0.5', port: 9464 });
    assert.throws(() => loadConfig({ ...env, PORT: '9464', METRICS_PORT: '9464' }), /METRICS_PORT: must differ from PORT/);
    assert.throws(() => loadConfig({ ...env, METRICS_PORT: 'ninety' }), /METRICS_PORT/);
  });

  it('refuses to start in production without SECRET_KEY or SMTP_URL', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://h:25' }), /SECRET_KEY/);
    assert.throws(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'k'.repeat(32) }), /SMTP_URL/);
  });
});

describe('parseDatabaseUrl', () => {
  it('accepts absolute and relative SQLite paths', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/undersign/site.sqlite'), { kind: 'sqlite', path: '/var/lib/undersign/site.sqlite' });
    const relative = parseDatabaseUrl('sqlite://./data/undersign.sqlite');
    assert.equal(relative.kind, 'sqlite');
    assert.ok(relative.kind === 'sqlite' && relative.path.endsWith('/data/undersign.sqlite'));
  });
});
