import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestApp } from './app.ts';

const BIN = fileURLToPath(new URL('../../bin/undersign.js', import.meta.url));

/** Waits until `check` holds, failing the test with `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const giveUp = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < giveUp, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `undersign <args>` as production would, on the test app's database, secret, data folder
 * and SMTP server. Set CRASH_TEST_LOG=info to see its logs. Add the child to `children` so the
 * test can kill what is left.
 */
export function startUndersign(t: TestApp, args: string[], children: ChildProcess[], env: Record<string, string> = {}): ChildProcess {
  const location = t.database.location;
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: location.kind === 'sqlite' ? `sqlite://${location.path}` : location.url,
      ...(t.ctx.config.smtpUrl ? { SMTP_URL: t.ctx.config.smtpUrl } : {}),
      SECRET_KEY: t.ctx.config.secretKey,
      BASE_URL: t.ctx.config.baseUrl,
      DATA_DIR: t.ctx.config.dataDir,
      LOG_LEVEL: process.env.CRASH_TEST_LOG ?? 'error',
      ...env,
    },
    stdio: ['ignore', process.env.CRASH_TEST_LOG ? 'inherit' : 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Waits for a child process to exit (at once if it already has). */
export function exited(child: ChildProcess): Promise<unknown> {
  return child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve();
}
