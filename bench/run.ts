/**
 * `npm run bench`: runs every benchmark, bounded in rows and time, on this machine only, and
 * prints a table. Record figures in docs/performance.md with the command that produced them.
 */
import { runBroadcastBench } from './broadcast.ts';
import { runBrowseBench } from './browse.ts';
import { runExportsBench } from './exports.ts';
import { runGeoBench } from './geo.ts';
import { runHandinBench } from './handin.ts';
import { runLiveBench } from './live.ts';
import { runPagesBench } from './pages.ts';
import { runScaleBench } from './scale.ts';
import { runSigningBench } from './signing.ts';
import { runSoakBench } from './soak.ts';
import { runSustainedBench } from './sustained.ts';

const only = process.argv[2];
console.log(`Undersign benchmarks — ${new Date().toISOString()} — node ${process.version}`);
if (!only || only === 'signing') console.table(await runSigningBench());
if (!only || only === 'browse') console.table(await runBrowseBench());
if (!only || only === 'sustained') console.table(await runSustainedBench());
if (!only || only === 'handin') console.table(await runHandinBench());
if (!only || only === 'exports') console.table(await runExportsBench());
if (!only || only === 'broadcast') console.table(await runBroadcastBench());
if (!only || only === 'geo') console.table(await runGeoBench());
if (!only || only === 'soak') console.table(await runSoakBench());
if (!only || only === 'scale') console.table(await runScaleBench());
if (!only || only === 'pages') console.table(await runPagesBench());
if (!only || only === 'live') console.table(await runLiveBench());
