import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_REJECTION_REASONS, DEFAULT_REJECTION_REASONS_CY, type Config } from '../../src/config.ts';
import { createContext, type AppContext, type ContextOverrides } from '../../src/context.ts';
import { openTestDatabase, type DatabaseKind, type TestDatabase } from './db.ts';

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  database: TestDatabase;
  /** Runs every due job now (confirmation emails…); returns how many ran. */
  drainJobs(): Promise<number>;
  close(): Promise<void>;
}

/** Configuration for tests: fixed secret, no rate limits, mail to a temporary dev outbox. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    env: 'test',
    port: 0,
    host: '127.0.0.1',
    baseUrl: 'http://localhost:3000',
    database: { kind: 'sqlite', path: ':memory:' },
    databasePoolMax: 10,
    dataDir: mkdtempSync(join(tmpdir(), 'undersign-data-')),
    smtpUrl: null,
    smtpConnections: 2,
    mailFrom: 'Undersign <no-reply@undersign.test>',
    secretKey: 'test-secret-key-that-is-at-least-32-characters',
    logLevel: 'warn',
    rateLimit: false,
    trustProxy: false,
    migrateOnStart: false,
    timeZone: 'Europe/London',
    defaultLanguage: 'en',
    siteName: 'Undersign',
    moderation: false,
    rejectionReasons: DEFAULT_REJECTION_REASONS,
    rejectionReasonsWelsh: DEFAULT_REJECTION_REASONS_CY,
    supportersRequired: 0,
    deadlineSweepMs: 30_000,
    jobLockMs: 300_000,
    jobConcurrency: 50,
    jobYieldAt: 1000,
    responseThreshold: 10_000,
    debateThreshold: 100_000,
    blockedEmailDomains: [],
    signMinSeconds: 0,
    retentionDays: 365,
    ipRetentionDays: 30,
    blockedIps: [],
    rateLimitStore: 'memory',
    signLimitPerIp: 100,
    signLimitPerDomain: 500,
    signChallenge: 'off',
    signChallengeBits: 8,
    passwordBreachCheck: false,
    passwordBreachApi: 'http://127.0.0.1:9/range/',
    maxEventLoopDelayMs: 0,
    maxWaitingSignatures: 10_000,
    maxLiveViewers: 5_000,
    maxExportsAtOnce: 1,
    fraudReviewLiveSignatures: 200_000,
    // Real argon2id at its lowest cost (~1 ms a hash instead of ~200): the suite creates and signs
    // in hundreds of accounts. Production's cost comes from PASSWORD_HASH_*, never below OWASP's minimum.
    passwordHashing: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    pageCacheMs: 0,
    metrics: null,
    ...overrides,
  };
}

/** Builds the app on a fresh database of the given kind. */
export async function createTestApp(
  kind: DatabaseKind,
  options: { config?: Partial<Config>; overrides?: ContextOverrides } = {},
): Promise<TestApp> {
  const database = await openTestDatabase(kind);
  const config = testConfig({ database: database.location, ...options.config });
  const ctx = createContext(config, {
    db: database.db,
    log: pino({ level: 'warn' }),
    ...options.overrides,
  });
  const app = await buildApp(ctx);
  await app.ready();
  return {
    app,
    ctx,
    database,
    drainJobs: () => ctx.worker.drain(),
    async close() {
      await app.close();
      await ctx.worker.stop();
      ctx.mailer.close();
      await database.cleanup();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Another app process on a test app's database (its own connections, context and app), as a
 * second web process behind a load balancer would be. `close` shuts it down.
 */
export async function anotherProcess(t: TestApp, config: Partial<Config> = {}): Promise<{ app: FastifyInstance; ctx: AppContext; close(): Promise<void> }> {
  const ctx = createContext(testConfig({ database: t.database.location, ...config }), { log: pino({ level: 'warn' }) });
  const app = await buildApp(ctx);
  return {
    app,
    ctx,
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}
