import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommitStats } from '../db/group-commit.ts';
import type { JobQueueReading } from '../jobs/jobs.service.ts';

/** Counts a part of the site keeps as it works, read when metrics are scraped (no cost per event beyond an addition). */
export interface MetricSources {
  /** Signatures acknowledged (stored, or a repeat of one stored), confirmed, and turned away because too many were waiting. */
  signing(): { received: number; confirmed: number; turnedAway: { signing: number; confirming: number } };
  /** Each group commit's batches and items committed so far, and items waiting now (see GroupCommit). */
  commits(): Record<string, CommitStats>;
  /** Jobs this process finished, by kind: done, or failed (to be tried again or given up). */
  jobsFinished(): Map<string, { done: number; failed: number }>;
  /** The job queue by kind (a database read: the caller keeps it for a while). */
  jobQueue(): Promise<JobQueueReading[]>;
  /** PostgreSQL's connection pool of this process (null on SQLite). */
  pool(): { total: number; idle: number; waiting: number } | null;
}

/** What the event-loop watch reports (see LoadMonitor). */
export interface LoadSource {
  /** The mean delay in the last half-second, in ms. */
  readonly lastDelayMs: number;
  readonly isOverloaded: boolean;
}

/** Request durations' bucket bounds, in seconds: from a cached page's to a slow export's first byte. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The process's metrics in Prometheus's text format (METRICS_PORT): requests by route and status
 * with their durations, signing and confirming, the group commits, the job queue, the event
 * loop's delay and load shedding, the database pool, and Node's own (memory, garbage collection,
 * CPU). One per context; nothing is global, so tests can build several.
 */
export class SiteMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route'>;
  private load: LoadSource | null = null;
  private defaultsCollected = false;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'undersign_http_requests_total', help: 'Requests answered, by method, route and status code.', labelNames: ['method', 'route', 'status'], registers });
    this.durations = new Histogram({ name: 'undersign_http_request_duration_seconds', help: 'Time from a request’s arrival to its answer, by method and route.', labelNames: ['method', 'route'], buckets: DURATION_BUCKETS, registers });
    new Counter({
      name: 'undersign_signatures_received_total',
      help: 'Signatures acknowledged: stored pending confirmation (or a repeat of one stored).',
      registers,
      collect() {
        this.reset();
        this.inc(sources.signing().received);
      },
    });
    new Counter({
      name: 'undersign_signatures_confirmed_total',
      help: 'Signatures confirmed by their signer’s link (added to the count).',
      registers,
      collect() {
        this.reset();
        this.inc(sources.signing().confirmed);
      },
    });
    new Counter({
      name: 'undersign_signing_turned_away_total',
      help: 'Signatures and confirmations refused with 503 because too many were already waiting to be stored (MAX_WAITING_SIGNATURES).',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        const { turnedAway } = sources.signing();
        this.inc({ queue: 'signing' }, turnedAway.signing);
        this.inc({ queue: 'confirming' }, turnedAway.confirming);
      },
    });
    new Counter({
      name: 'undersign_commit_batches_total',
      help: 'Transactions committed by each group commit (items per batch = items ÷ batches).',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const [queue, c] of Object.entries(sources.commits())) this.inc({ queue }, c.batches);
      },
    });
    new Counter({
      name: 'undersign_commit_items_total',
      help: 'Items (signatures, confirmations) committed by each group commit.',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const [queue, c] of Object.entries(sources.commits())) this.inc({ queue }, c.items);
      },
    });
    new Gauge({
      name: 'undersign_commit_waiting',
      help: 'Items waiting for (or in) a group commit’s transaction now.',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const [queue, c] of Object.entries(sources.commits())) this.set({ queue }, c.waiting);
      },
    });
    new Counter({
      name: 'undersign_jobs_finished_total',
      help: 'Background jobs (emails, webhooks, exports) this process finished, by kind and outcome (done, failed: tried again later or given up).',
      labelNames: ['kind', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [kind, c] of sources.jobsFinished()) {
          this.inc({ kind, outcome: 'done' }, c.done);
          this.inc({ kind, outcome: 'failed' }, c.failed);
        }
      },
    });
    // The queue is the database's, the same whichever process reads it: across a cluster's
    // processes the largest reading is kept, not their sum. A kind whose jobs are all finished
    // (and deleted) reads 0 from then on, rather than its series vanishing.
    const kindsSeen = new Set<string>();
    const queueGauge = (name: string, help: string, value: (row: JobQueueReading) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['kind'],
        registers,
        aggregator: 'max',
        async collect() {
          this.reset();
          const rows = await sources.jobQueue();
          for (const row of rows) kindsSeen.add(row.kind);
          for (const kind of kindsSeen) this.set({ kind }, 0);
          for (const row of rows) this.set({ kind: row.kind }, value(row));
        },
      });
    queueGauge('undersign_jobs_waiting', 'Jobs queued and not yet finished (due or later), by kind.', (r) => r.waiting);
    queueGauge('undersign_jobs_due', 'Jobs due now and not yet started, by kind.', (r) => r.due);
    queueGauge('undersign_jobs_running', 'Jobs being run by a worker now, by kind.', (r) => r.running);
    queueGauge('undersign_jobs_given_up', 'Jobs given up after all their attempts (see /admin/jobs), by kind.', (r) => r.givenUp);
    queueGauge('undersign_jobs_oldest_due_seconds', 'How long the longest-due job of each kind has been waiting: how late confirmation emails are.', (r) => r.oldestDueSeconds);
    const load = () => this.load;
    new Gauge({
      name: 'undersign_event_loop_delay_seconds',
      help: 'How late the event loop runs, averaged over the last half-second (load is shed past MAX_EVENT_LOOP_DELAY_MS).',
      registers,
      aggregator: 'max',
      collect() {
        this.set((load()?.lastDelayMs ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'undersign_shedding_load',
      help: '1 while the process answers 503 with Retry-After because its event loop runs too late, else 0.',
      registers,
      collect() {
        this.set(load()?.isOverloaded ? 1 : 0);
      },
    });
    new Gauge({
      name: 'undersign_db_pool_connections',
      help: 'PostgreSQL connections of this process by state: total open, idle, and queries waiting for one (DATABASE_POOL_MAX).',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const pool = sources.pool();
        if (!pool) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
  }

  /** Counts an answered request; `route` is the route's pattern (never the address: slugs and tokens would be endless labels). */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const path = route ?? 'unmatched';
    this.durations.observe({ method, route: path }, seconds);
    this.requests.inc({ method, route: path, status: String(status) });
  }

  /** Reports the web process's event-loop watch (none in a worker process). */
  watchLoad(load: LoadSource | null): void {
    this.load = load;
  }

  /** Adds Node's own metrics (memory, garbage collection, event loop, CPU): timers and observers, so only where metrics are served. */
  collectProcessMetrics(): void {
    if (this.defaultsCollected) return;
    this.defaultsCollected = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** This process's metrics in Prometheus's text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * Serves `GET /metrics` on its own port (METRICS_HOST, METRICS_PORT), apart from the site's:
 * the balancer never routes to it, and only the monitoring network should reach it. `read`
 * gives the text: this process's, or a cluster's sum (see serveClusterMetrics).
 */
export async function startMetricsServer(read: () => Promise<string>, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Metrics are at /metrics.\n');
      return;
    }
    read().then(
      (text) => response.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(text),
      (err: unknown) => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`The metrics could not be read: ${String((err as Error)?.message ?? err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/**
 * In a cluster's web process: answers the first process's requests for this process's metrics
 * (prom-client's AggregatorRegistry, over the cluster's IPC channel).
 */
export function shareWithCluster(metrics: SiteMetrics): void {
  if (!cluster.isWorker) return;
  // Constructing one installs the listener for the first process's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
}

/** In a cluster's first process: the web processes' metrics gathered into one (summed, or the largest where a sum means nothing). */
export function clusterMetricsReader(): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  return () => aggregator.clusterMetrics();
}
