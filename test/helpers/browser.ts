import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Why browser tests are skipped, or false when Chromium is there to run them. */
export const BROWSER_SKIP_REASON: string | false = existsSync(CHROMIUM_PATH)
  ? false
  : `Chromium not found at ${CHROMIUM_PATH}: browser tests skipped (CI installs Debian's chromium)`;

/** Launches the machine's Chromium headless, without reaching out to the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-gpu',
      '--no-first-run',
    ],
  });
}

/** A listening app with a real SMTP server and Chromium, for browser tests. */
export interface BrowserRig {
  t: import('./app.ts').TestApp;
  smtp: import('./smtp.ts').TestSmtpServer;
  browser: Browser;
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts the app on a free port (PostgreSQL when configured, else SQLite) with its worker, SMTP and a browser. */
export async function startBrowserRig(config: Partial<import('../../src/config.ts').Config> = {}): Promise<BrowserRig> {
  const { createTestApp } = await import('./app.ts');
  const { TestSmtpServer } = await import('./smtp.ts');
  const { freePort } = await import('./server.ts');
  const { POSTGRES_URL } = await import('./db.ts');
  const smtp = new TestSmtpServer();
  const smtpUrl = await smtp.start();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const t = await createTestApp(POSTGRES_URL ? 'postgres' : 'sqlite', { config: { baseUrl, smtpUrl, port, ...config }, overrides: { workerPollMs: 100 } });
  await t.app.listen({ port, host: '127.0.0.1' });
  t.ctx.worker.start();
  const browser = await launchChromium();
  return {
    t,
    smtp,
    browser,
    baseUrl,
    async close() {
      await browser.close();
      await t.close();
      await smtp.stop();
    },
  };
}
