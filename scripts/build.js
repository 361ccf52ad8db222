#!/usr/bin/env node
/**
 * Builds the sources into plain JavaScript in dist/ (`npm start` and `npm run worker` run this
 * first; it takes about a second). Production runs the built files rather than loading
 * TypeScript through tsx at run time: tsx's loader thread and transform cache cost a server
 * process about 100 MB of memory (docs/performance.md), more than a third of its budget.
 *
 * One bundle per entry point with the shared code split out; npm packages stay external and
 * load from node_modules. dist/ sits beside src/, so paths built from import.meta.url
 * (`../public/`) mean the same in both.
 */
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist`;

const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', main: 'src/main.ts', worker: 'src/worker.ts', 'sqlite-thread': 'src/sqlite-thread.ts', 'image-thread': 'src/image-thread.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  tsconfig: 'tsconfig.json',
  // Stack traces map back to src/ with NODE_OPTIONS=--enable-source-maps.
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
});

// `npm start` and `npm run worker` may build at the same moment while the other is loading:
// each file is replaced whole (rename) and only when it changed; files of older builds go.
mkdirSync(outdir, { recursive: true });
const built = new Set();
for (const file of result.outputFiles) {
  built.add(file.path);
  let current;
  try {
    current = readFileSync(file.path);
  } catch {
    current = null;
  }
  if (current?.equals(file.contents)) continue;
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
for (const name of readdirSync(outdir)) {
  if (!built.has(join(outdir, name)) && !name.endsWith('.tmp')) rmSync(join(outdir, name), { force: true });
}
