import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

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

let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core (WCAG 2.0–2.2 A and AA rules) on the page and returns what it finds. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}
