/**
 * `npm run bench`: runs every benchmark, bounded in rows and time, on this machine only, and
 * prints a table. Record figures in docs/performance.md with the command that produced them.
 */
import { runHandinBench } from './handin.ts';

const results = await runHandinBench();
console.log(`\nUndersign benchmarks — ${new Date().toISOString()} — node ${process.version}\n`);
console.table(results);
