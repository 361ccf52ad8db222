import cluster from 'node:cluster';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createContext, type AppContext } from './context.ts';
import { migrateToLatest } from './db/database.ts';
import { clusterMetricsReader, shareWithCluster, startMetricsServer } from './lib/metrics.ts';

/** Loads the configuration, or prints what is wrong (naming the variable) and exits non-zero. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`undersign: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/** Opens the database and applies pending migrations when configured to. */
export async function prepareContext(config: Config): Promise<AppContext> {
  const ctx = createContext(config);
  if (config.migrateOnStart) await migrateToLatest(ctx.db);
  return ctx;
}

/** Closes everything on SIGINT/SIGTERM so in-flight requests and jobs finish first. */
export function closeOnSignals(close: () => Promise<void>, ctx: AppContext): void {
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      ctx.log.info({ signal }, 'shutting down');
      close()
        .then(() => process.exit(0))
        .catch((err) => {
          ctx.log.error({ err }, 'error while shutting down');
          process.exit(1);
        });
    });
  }
}

/**
 * Connections the kernel may hold for the server before it accepts them (capped by
 * net.core.somaxconn). Node's default, 511, overflowed when 2,000 signers arrived at once: about
 * 1,500 connection attempts were dropped and retried by their browsers a second or more later
 * (p99 0.76–2.4 s against 0.74–1.9 s with 4096; docs/performance.md).
 */
const LISTEN_BACKLOG = 4096;

/**
 * Serves this process's metrics on METRICS_PORT when it is set; a cluster's web process hands
 * them to the first process instead, which serves them all (startCluster). Returns a stop.
 */
async function serveMetrics(ctx: AppContext): Promise<() => Promise<void>> {
  const where = ctx.config.metrics;
  if (!where) return async () => {};
  ctx.metrics.collectProcessMetrics();
  if (cluster.isWorker) {
    shareWithCluster(ctx.metrics);
    return async () => {};
  }
  const server = await startMetricsServer(() => ctx.metrics.text(), where.host, where.port);
  ctx.log.info(`Metrics at http://${where.host}:${where.port}/metrics`);
  return () => new Promise((resolve) => server.close(() => resolve()));
}

/** Starts the web server, and the job worker in the same process when `withWorker` is set. */
export async function startServer(config: Config, options: { withWorker: boolean }): Promise<void> {
  const ctx = await prepareContext(config);
  if (!config.rateLimit) ctx.log.warn('RATE LIMITING IS OFF (RATE_LIMIT=off): use this only for benchmarks or closed deployments');
  const app = await buildApp(ctx);
  const stopMetrics = await serveMetrics(ctx);
  await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  if (options.withWorker) ctx.worker.start();
  const where = config.database.kind === 'sqlite' ? config.database.path : 'PostgreSQL';
  ctx.log.info(`Undersign is up at ${config.baseUrl} (database: ${where}; worker: ${options.withWorker ? 'in-process' : 'separate'})`);
  closeOnSignals(async () => {
    // Fastify's close() waits out the keep-alive timeout (72 s) for a connection that falls idle
    // after it began (fastify/fastify#7044): close such connections as they fall idle. A request
    // in flight is still answered.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    try {
      await app.close();
    } finally {
      clearInterval(sweep);
    }
    await stopMetrics();
    await ctx.close();
  }, ctx);
}

/** Runs the job worker alone (several web processes can then share one PostgreSQL). */
export async function startWorker(config: Config): Promise<void> {
  const ctx = await prepareContext(config);
  const stopMetrics = await serveMetrics(ctx);
  ctx.worker.start();
  // The worker's timers do not hold the process open (so tests and the web process can exit),
  // and SQLite holds no socket: a worker on its own must keep itself alive until told to stop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  ctx.log.info('Undersign worker started');
  closeOnSignals(async () => {
    clearInterval(keepAlive);
    await stopMetrics();
    await ctx.close();
  }, ctx);
}

/**
 * Several web processes on one port (Node's cluster module): the first process applies the
 * migrations, then starts `processes` copies of the site and replaces any that die. With
 * `withWorker`, the first copy also runs the job worker (more workers are `undersign worker`).
 * Meant for PostgreSQL: SQLite has one writer, and processes would wait on each other.
 */
export async function startCluster(config: Config, options: { processes: number; withWorker: boolean }): Promise<void> {
  if (!cluster.isPrimary) {
    const index = Number(process.env.UNDERSIGN_CLUSTER_INDEX ?? 0);
    await startServer({ ...config, migrateOnStart: false }, { withWorker: options.withWorker && index === 0 });
    return;
  }
  const ctx = await prepareContext(config);
  await ctx.close();
  if (config.database.kind === 'sqlite') ctx.log.warn('Several web processes on SQLite wait on each other for its one writer: use PostgreSQL to scale out');
  let stopping = false;
  const fork = (index: number) => {
    const child = cluster.fork({ UNDERSIGN_CLUSTER_INDEX: String(index) });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      ctx.log.error({ index, code, signal }, 'a web process died; starting another');
      fork(index);
    });
  };
  for (let i = 0; i < options.processes; i++) fork(i);
  ctx.log.info(`Undersign: ${options.processes} web processes on port ${config.port}`);
  // The web processes' metrics, gathered here into one answer (each process's own on its own would
  // be scraped at random through the shared port).
  const metricsServer = config.metrics ? await startMetricsServer(clusterMetricsReader(), config.metrics.host, config.metrics.port) : null;
  if (config.metrics) ctx.log.info(`Metrics of all ${options.processes} web processes at http://${config.metrics.host}:${config.metrics.port}/metrics`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      metricsServer?.close();
      const children = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
      let left = children.length;
      if (left === 0) process.exit(0);
      for (const child of children) {
        child.once('exit', () => {
          if (--left === 0) process.exit(0);
        });
        child.process.kill('SIGTERM');
      }
    });
  }
}
