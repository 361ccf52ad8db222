#!/usr/bin/env node
// `npm test`: runs every *.test.ts / *.test.tsx under src/ and test/ with node:test and tsx.
// Extra arguments are passed to node (e.g. `npm test -- --test-name-pattern=sign`); file paths
// given as arguments run only those files.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const fileArgs = args.filter((a) => /\.test\.tsx?$/.test(a));
const nodeArgs = args.filter((a) => !fileArgs.includes(a));

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return findTests(path);
    return /\.test\.tsx?$/.test(name) ? [relative(root, path)] : [];
  });
}

const files = fileArgs.length ? fileArgs : [...findTests(join(root, 'src')), ...findTests(join(root, 'test'))].sort();

if (!process.env.TEST_DATABASE_URL) console.log('# note: TEST_DATABASE_URL is not set: PostgreSQL suites will be skipped (CI sets it)');
if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) console.log('# note: Chromium not found at /usr/bin/chromium: browser tests will be skipped (CI installs it)');

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', '--test-timeout=300000', ...nodeArgs, ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
