/**
 * Re-takes the README's screenshots: loads the story's demo into a throwaway database, starts
 * the site, and photographs a few pages in Chromium. Run with `npx tsx scripts/screenshots.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/helpers/browser.ts';
import { freePort } from '../test/helpers/server.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'undersign-shots-'));
const port = await freePort();
const env = { ...process.env, DATABASE_URL: `sqlite://${join(dir, 'demo.sqlite')}`, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'development' };
const demo = spawnSync(process.execPath, [join(root, 'bin', 'undersign.js'), 'demo'], { env, encoding: 'utf8' });
if (demo.status !== 0) throw new Error(demo.stderr);
const slug = /petitions\/(\S+)/.exec(demo.stdout)![1]!;
const server = spawn(process.execPath, [join(root, 'bin', 'undersign.js'), 'serve'], { env, stdio: 'ignore' });
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await fetch(`${base}/healthz`).catch(() => null))?.ok; i++) await new Promise((r) => setTimeout(r, 100));
  const browser = await launchChromium();
  const shoot = async (path: string, file: string, viewport = { width: 1100, height: 1000 }, signIn = false) => {
    const page = await browser.newPage({ viewport });
    if (signIn) {
      await page.goto(`${base}/login`);
      await page.getByLabel('Email address').fill('mep@demo.undersign');
      await page.getByLabel('Password').fill('demo password 1804');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/account');
    }
    await page.goto(`${base}${path}`);
    await page.screenshot({ path: join(out, file) });
    await page.close();
  };
  await shoot(`/petitions/${slug}`, 'petition.png');
  await shoot(`/petitions/${slug}`, 'petition-phone.png', { width: 375, height: 800 });
  await shoot('/', 'home.png');
  await shoot(`/petitions/${slug}/handin`, 'handin.png', { width: 1100, height: 1000 }, true);
  await shoot(`/petitions/${slug}/stats#when`, 'stats.png', { width: 1100, height: 900 });
  await shoot(`/petitions/${slug}?lang=cy`, 'petition-cy.png', { width: 375, height: 800 });
  await browser.close();
  console.log(`Screenshots written to ${out}`);
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
