import { loadConfigOrExit, startServer } from './server.ts';

// `npm start`: the website with its job worker in the same process.
await startServer(loadConfigOrExit(), { withWorker: process.env.WORKER !== 'off' });
