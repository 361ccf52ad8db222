import { loadConfigOrExit, startWorker } from './server.ts';

// `npm run worker`: sends email and runs other queued jobs, beside web processes started with WORKER=off.
await startWorker(loadConfigOrExit());
