import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.ts';
import { createContext } from './context.ts';
import { signatureEmailKey } from './lib/email-keys.ts';

const BIN = fileURLToPath(new URL('../bin/undersign.js', import.meta.url));

describe('the undersign command', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  const run = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...env, ...options.env },
      input: options.input ?? '',
      encoding: 'utf8',
      timeout: 60_000,
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'undersign-cli-'));
    const { TEST_DATABASE_URL: _ignored, ...rest } = process.env;
    // The lowest password-hashing cost the settings allow: the commands create and check accounts.
    env = { ...rest, NODE_ENV: 'development', DATABASE_URL: `sqlite://${join(dir, 'cli.sqlite')}`, LOG_LEVEL: 'warn', PASSWORD_HASH_MEMORY_KIB: '19456', PASSWORD_HASH_TIME_COST: '2', PASSWORD_HASH_PARALLELISM: '1' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('explains itself with --help', () => {
    const res = run(['--help']);
    assert.equal(res.status, 0);
    for (const command of ['serve', 'worker', 'migrate', 'user', 'token']) assert.match(res.stdout, new RegExp(command));
    const user = run(['user', 'create', '--help']);
    assert.match(user.stdout, /--email/);
    assert.match(user.stdout, /--password-stdin/);
    assert.match(user.stdout, /--admin/);
  });

  it('migrates the database', () => {
    const first = run(['migrate']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Applied: 0001_core|up to date/);
    const second = run(['migrate']);
    assert.equal(second.status, 0);
    assert.match(second.stdout, /The database is up to date/);
  });

  it('creates an admin with a password from stdin, and a token printed as the last line', async () => {
    const created = run(['user', 'create', '--email', 'Admin@Example.org', '--name', 'Site Admin', '--admin', '--password-stdin'], {
      input: 'a long enough password\n',
    });
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /Created admin admin@example\.org/);
    assert.doesNotMatch(created.stdout, /Password/);

    const token = run(['token', 'create', '--email', 'admin@example.org']);
    assert.equal(token.status, 0, token.stderr);
    const lastLine = token.stdout.trim().split('\n').at(-1)!;
    assert.match(lastLine, /^us_[A-Za-z0-9_-]{43}$/);

    const ctx = createContext(loadConfig(env));
    try {
      const user = await ctx.services.auth.userForApiToken(lastLine);
      assert.equal(user.role, 'admin');
      assert.equal((await ctx.services.users.verifyCredentials('admin@example.org', 'a long enough password')).status, 'ok');
    } finally {
      await ctx.close();
    }
  });

  it('generates and prints a password once when none is given', async () => {
    const res = run(['user', 'create', '--email', 'campaigner@example.org', '--name', 'Campaigner']);
    assert.equal(res.status, 0, res.stderr);
    const password = /Password \(shown once\): (\S+)/.exec(res.stdout)?.[1];
    assert.ok(password && password.length >= 16);
    const ctx = createContext(loadConfig(env));
    try {
      const result = await ctx.services.users.verifyCredentials('campaigner@example.org', password);
      assert.equal(result.status === 'ok' && result.user.role, 'campaigner');
    } finally {
      await ctx.close();
    }
  });

  it('fails clearly on bad input', () => {
    const duplicate = run(['user', 'create', '--email', 'admin@example.org', '--name', 'Again']);
    assert.equal(duplicate.status, 1);
    assert.match(duplicate.stderr, /email: An account with this email already exists/);
    const weak = run(['user', 'create', '--email', 'weak@example.org', '--name', 'Weak', '--password-stdin'], { input: 'short' });
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /password: Use at least 10 characters/);
    const noAccount = run(['token', 'create', '--email', 'nobody@example.org']);
    assert.equal(noAccount.status, 1);
    assert.match(noAccount.stderr, /No account with the email nobody@example\.org/);
    const missing = run(['user', 'create', '--name', 'No Email']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /--email/);
  });

  it('loads the story as a demo into an empty database, and refuses a database in use', async () => {
    const demoEnv = { DATABASE_URL: `sqlite://${join(dir, 'demo.sqlite')}` };
    const res = run(['demo'], { env: demoEnv });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /Demo loaded: http:\/\/127\.0\.0\.1:3000\/petitions\/keep-the-mets-specialist-human-trafficking-unit-open/);
    const ctx = createContext(loadConfig({ ...env, ...demoEnv }));
    try {
      const petition = await ctx.services.petitions.getForViewer('keep-the-mets-specialist-human-trafficking-unit-open', null);
      assert.equal(petition.signatureCount, 1804);
      assert.equal(petition.state, 'delivered');
      assert.ok((await ctx.services.milestones.list(petition)).some((m) => m.kind === 'goal'));
      assert.equal((await ctx.services.endorsements.publicList(petition)).length, 5);
    } finally {
      await ctx.close();
    }
    const again = run(['demo'], { env: demoEnv });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already has petitions/);
  });

  it('answers data-subject requests: export everything about an address, then erase it', async () => {
    const ctx = createContext(loadConfig(env));
    let slug: string;
    try {
      const admin = (await ctx.services.users.findByEmail('admin@example.org'))!;
      const petition = await ctx.services.petitions.createPetition(admin, {
        title: 'A petition for the data request test',
        action: 'Do the right thing please.',
        background: 'Because it matters a lot.',
        target: { name: 'The council' },
      });
      slug = (await ctx.services.petitions.openPetition(admin, petition.slug)).slug;
      await ctx.services.signatures.recordSignature(slug, { name: 'Dana Subject', email: 'Dana@Example.net', postcode: 'SW1A 1AA', country: 'GB', public_name: true });
    } finally {
      await ctx.close();
    }
    const exported = run(['signer', 'export', '--email', 'dana@example.net']);
    assert.equal(exported.status, 0, exported.stderr);
    const data = JSON.parse(exported.stdout);
    assert.equal(data.signatures.length, 1);
    assert.equal(data.signatures[0].name, 'Dana Subject');
    assert.equal(data.signatures[0].consent.public_name, 'Show my name publicly as a supporter');
    const dry = run(['signer', 'erase', '--email', 'dana@example.net']);
    assert.match(dry.stdout, /1 signature\(s\) would be erased/);
    const erased = run(['signer', 'erase', '--email', 'dana@example.net', '--yes']);
    assert.match(erased.stdout, /Erased 1 signature\(s\)/);
    assert.equal(JSON.parse(run(['signer', 'export', '--email', 'dana@example.net']).stdout).signatures.length, 0);
  });

  it('invalidates a petition’s signatures by domain, after a dry run, and reinstates them', async () => {
    const ctx = createContext(loadConfig(env));
    let slug: string;
    try {
      const admin = (await ctx.services.users.findByEmail('admin@example.org'))!;
      const petition = await ctx.services.petitions.createPetition(admin, { title: 'A petition for the invalidation test', action: 'Do the right thing please.', background: 'Because it matters a lot.', target: { name: 'The council' } });
      slug = (await ctx.services.petitions.openPetition(admin, petition.slug)).slug;
      for (const email of ['a1@spam.example', 'a2@spam.example', 'real@example.org']) {
        await ctx.services.signatures.recordSignature(slug, { name: 'Someone', email, postcode: 'SW1A 1AA', country: 'GB' });
        const row = await ctx.db.kysely.selectFrom('signatures').select('id').where('email_key', '=', signatureEmailKey(email)).executeTakeFirstOrThrow();
        await ctx.services.signatures.confirmSignature(ctx.services.signatures.confirmationTokens.sign(row.id));
      }
    } finally {
      await ctx.close();
    }
    const dry = run(['signatures', 'invalidate', '--petition', slug, '--domain', 'spam.example', '--reason', 'Throwaway domain']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /2 signature\(s\) would be invalidated \(2 confirmed\)/);
    const done = run(['signatures', 'invalidate', '--petition', slug, '--domain', 'spam.example', '--reason', 'Throwaway domain', '--yes']);
    assert.equal(done.status, 0, done.stderr);
    const id = /Invalidation (\d+): 2 signature\(s\) invalidated, 2 of them confirmed/.exec(done.stdout)?.[1];
    assert.ok(id, done.stdout);
    const none = run(['signatures', 'invalidate', '--petition', slug, '--reason', 'everything']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /Choose the signatures/);
    const check = createContext(loadConfig(env));
    try {
      assert.equal((await check.services.petitions.getForViewer(slug, null)).signatureCount, 1);
    } finally {
      await check.close();
    }
    const back = run(['signatures', 'reinstate', '--invalidation', id]);
    assert.equal(back.status, 0, back.stderr);
    assert.match(back.stdout, /2 signature\(s\) reinstated/);
  });

  it('lists the background work and queues given-up jobs again', async () => {
    const ctx = createContext(loadConfig(env));
    try {
      await ctx.db.kysely
        .insertInto('jobs')
        .values({ kind: 'signature.send_confirmation', payload: '{"signatureId":999999}', state: 'dead', attempts: 8, max_attempts: 8, run_at: '2026-12-01T09:00:00.000Z', created_at: '2026-12-01T09:00:00.000Z', finished_at: '2026-12-01T10:00:00.000Z', last_error: '550 <someone@example.net>: rejected' })
        .execute();
    } finally {
      await ctx.close();
    }
    const listed = run(['jobs', 'list']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /signature\.send_confirmation: \d+ waiting \(\d+ due now[^)]*\), 0 running, 1 given up/);
    assert.match(listed.stdout, /given up 2026-12-01T10:00:00\.000Z: signature\.send_confirmation #\d+ after 8 attempt\(s\): 550 <…@example\.net>: rejected/);
    const retried = run(['jobs', 'retry', 'signature.send_confirmation']);
    assert.equal(retried.status, 0, retried.stderr);
    assert.match(retried.stdout, /Queued 1 given-up job\(s\) of kind signature\.send_confirmation again/);
    const after = run(['jobs', 'list']).stdout;
    assert.match(after, /signature\.send_confirmation: .*, 0 given up/);
    assert.match(after, /last queued again \S+: 1 job\(s\) of kind signature\.send_confirmation, by the operator \(command line\)/);
  });

  it('imports ONS postcodes, names and boundaries, and rebuilds the counts', () => {
    const geo = fileURLToPath(new URL('../test/fixtures/geo/', import.meta.url));
    const imported = run(['geo', 'import', `${geo}onspd-sample.csv`, `${geo}pcon-names.csv`]);
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, /onspd-sample\.csv: postcodes file, 12 rows, 11 imported, 1 skipped, in [\d.]+ s; areas: 6 constituency, 6 local authority, 7 ward, 4 region/);
    assert.match(imported.stdout, /pcon-names\.csv: names file, 6 rows, 6 imported/);
    const boundaries = run(['geo', 'boundaries', `${geo}local-authorities.topojson`]);
    assert.equal(boundaries.status, 0, boundaries.stderr);
    assert.match(boundaries.stdout, /2 local authority imported; 0 features skipped/);
    const missing = run(['geo', 'import', join(dir, 'nope.csv')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such file/);
    const rebuilt = run(['stats', 'rebuild']);
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, /Rebuilt the counts of \d+ petition\(s\)/);
  });

  it('refuses invalid configuration, naming the variable', () => {
    const res = run(['migrate'], { env: { PORT: 'eighty' } });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /PORT/);
    const prod = run(['migrate'], { env: { NODE_ENV: 'production', SMTP_URL: 'smtp://localhost:25' } });
    assert.notEqual(prod.status, 0);
    assert.match(prod.stderr, /SECRET_KEY/);
  });
});
