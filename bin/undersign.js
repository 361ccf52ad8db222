#!/usr/bin/env node
// The `undersign` command: loads the TypeScript sources through tsx, then runs the CLI.
// (`npm start` and `npm run worker` run the built JavaScript in dist/ instead: see scripts/build.js.)
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

// The project's tsconfig wherever the command is run from: tsx would otherwise look in the
// working directory, and pages (JSX) fail to render when it is elsewhere.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/cli.ts');
