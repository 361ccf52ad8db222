import { SiteMetrics } from './lib/metrics.ts';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { closeDatabase, letOtherWritersIn, openDatabase, type Db } from './db/database.ts';
import { JobsService } from './jobs/jobs.service.ts';
import { JobsRepository } from './jobs/jobs.repository.ts';
import { JobWorker } from './jobs/worker.ts';
import { VisitorRate } from './modules/health/visitor-rate.ts';
import { DevOutbox } from './mail/dev-outbox.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { systemClock, type Clock } from './lib/time.ts';
import { EffectsWriter } from './db/effects.ts';
import { AuditRepository } from './modules/audit/audit.repository.ts';
import { AuthRepository } from './modules/auth/auth.repository.ts';
import { TeamsRepository } from './modules/teams/teams.repository.ts';
import { BroadcastsRepository } from './modules/mailings/broadcasts.repository.ts';
import { BroadcastsService } from './modules/mailings/broadcasts.service.ts';
import { UpdatesRepository } from './modules/updates/updates.repository.ts';
import { UpdatesService } from './modules/updates/updates.service.ts';
import { UploadsRepository } from './modules/uploads/uploads.ts';
import { EndorsementsRepository } from './modules/endorsements/endorsements.repository.ts';
import { EndorsementsService } from './modules/endorsements/endorsements.service.ts';
import { endorsementJobHandlers } from './modules/endorsements/endorsements.jobs.ts';
import { PressRepository } from './modules/press/press.repository.ts';
import { PressService } from './modules/press/press.service.ts';
import { MilestonesRepository } from './modules/milestones/milestones.ts';
import { MilestonesService } from './modules/milestones/milestones.service.ts';
import { HandinRepository } from './modules/handin/handin.repository.ts';
import { HandinService } from './modules/handin/handin.service.ts';
import { WebhooksRepository } from './modules/webhooks/webhooks.repository.ts';
import { WebhooksService } from './modules/webhooks/webhooks.service.ts';
import { StatsService } from './modules/stats/stats.service.ts';
import { StatsRepository } from './modules/stats/stats.repository.ts';
import { LiveCounts } from './modules/stats/live-counts.ts';
import { MapOutlineCache } from './modules/stats/stats.map.tsx';
import { GeoRepository } from './modules/geo/geo.repository.ts';
import { GeoService } from './modules/geo/geo.service.ts';
import { IpPolicy } from './modules/safety/ip-policy.ts';
import { PublicPageCache } from './views/page-cache.ts';
import { keepJsxOffAsyncHooks } from './views/synchronous-jsx.ts';
import { ProofOfWorkChallenge } from './modules/safety/challenge.ts';
import { BreachedPasswordCheck } from './modules/safety/breached-passwords.ts';
import { FraudRepository } from './modules/safety/fraud.repository.ts';
import { FraudService } from './modules/safety/fraud.service.ts';
import { DatabaseRateLimitStore, MemoryRateLimitStore, SigningRateLimiter, type RateLimitStore } from './modules/safety/rate-limits.ts';
import { TeamsService } from './modules/teams/teams.service.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { PetitionsRepository } from './modules/petitions/petitions.repository.ts';
import { PetitionsService } from './modules/petitions/petitions.service.ts';
import { SignaturesRepository } from './modules/signatures/signatures.repository.ts';
import { SignaturesService } from './modules/signatures/signatures.service.ts';
import { signatureJobHandlers } from './modules/signatures/signatures.jobs.ts';
import { petitionJobHandlers } from './modules/petitions/petitions.jobs.ts';
import { teamJobHandlers } from './modules/teams/teams.jobs.ts';
import { accountJobHandlers } from './modules/users/accounts.jobs.ts';
import { UsersRepository } from './modules/users/users.repository.ts';
import { UsersService } from './modules/users/users.service.ts';
import { pathForLog } from './lib/access-log.ts';

/** How often the worker folds queued count changes into the area and hourly counts. */
const STATS_FOLD_MS = 2_000;

/** Everything the web app, the worker and the CLI share: one per process. */
export interface AppContext {
  config: Config;
  db: Db;
  log: Logger;
  clock: Clock;
  mailer: Mailer;
  devOutbox: DevOutbox;
  repositories: {
    users: UsersRepository;
    auth: AuthRepository;
    petitions: PetitionsRepository;
    signatures: SignaturesRepository;
    teams: TeamsRepository;
    uploads: UploadsRepository;
    updates: UpdatesRepository;
    broadcasts: BroadcastsRepository;
    endorsements: EndorsementsRepository;
    press: PressRepository;
    milestones: MilestonesRepository;
    handin: HandinRepository;
    webhooks: WebhooksRepository;
    stats: StatsRepository;
    geo: GeoRepository;
    fraud: FraudRepository;
    audit: AuditRepository;
    jobs: JobsRepository;
  };
  services: {
    users: UsersService;
    auth: AuthService;
    petitions: PetitionsService;
    signatures: SignaturesService;
    teams: TeamsService;
    broadcasts: BroadcastsService;
    updates: UpdatesService;
    endorsements: EndorsementsService;
    press: PressService;
    milestones: MilestonesService;
    handin: HandinService;
    webhooks: WebhooksService;
    stats: StatsService;
    geo: GeoService;
    maps: MapOutlineCache;
    liveCounts: LiveCounts;
    fraud: FraudService;
    pageCache: PublicPageCache;
    jobs: JobsService;
  };
  worker: JobWorker;
  /** The requests this process answers (the app counts them; an in-process worker yields to them). */
  visitors: VisitorRate;
  /** Rate-limit counters (shared through the database when RATE_LIMIT_STORE=database). */
  rateLimitStore: RateLimitStore;
  /** What this process counts for Prometheus (served when METRICS_PORT is set; see src/lib/metrics.ts). */
  metrics: SiteMetrics;
  /** Stops the worker, lets signatures on their way be stored, and closes mail and database connections. */
  close(): Promise<void>;
}

export interface ContextOverrides {
  db?: Db;
  log?: Logger;
  clock?: Clock;
  mailer?: Mailer;
  workerPollMs?: number;
}

/** Paths and headers that may carry personal data or secrets and must never reach the logs. */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'email',
  '*.email',
  'password',
  '*.password',
];

/** The process logger: JSON lines, with secrets and personal data redacted. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // Path only, without tokens (see pathForLog); client IPs are personal data.
      req: (req: { method?: string; url?: string; routeOptions?: { url?: string }; params?: unknown }) => ({ method: req.method, path: pathForLog(req.url ?? '', req.routeOptions?.url, req.params) }),
    },
  }, destination);
}

/** Wires repositories, services, mail and the job worker for one process. */
export function createContext(config: Config, overrides: ContextOverrides = {}): AppContext {
  keepJsxOffAsyncHooks();
  const log = overrides.log ?? createLogger(config);
  const clock = overrides.clock ?? systemClock;
  const db =
    overrides.db ?? openDatabase(config.database, { poolMax: config.databasePoolMax });
  const devOutbox = new DevOutbox(join(config.dataDir, 'dev-mail'));
  const mailer = overrides.mailer ?? createMailer({ from: config.mailFrom, smtpUrl: config.smtpUrl, connections: config.smtpConnections, devOutbox });

  const jobs = new JobsRepository(db);
  const audit = new AuditRepository(db);
  const effects = new EffectsWriter(jobs, audit);
  const repositories = {
    users: new UsersRepository(db, effects),
    auth: new AuthRepository(db),
    petitions: new PetitionsRepository(db, effects),
    signatures: new SignaturesRepository(db, config.maxWaitingSignatures),
    teams: new TeamsRepository(db, effects),
    uploads: new UploadsRepository(db),
    updates: new UpdatesRepository(db, effects),
    broadcasts: new BroadcastsRepository(db, effects),
    endorsements: new EndorsementsRepository(db, effects),
    press: new PressRepository(db, effects),
    milestones: new MilestonesRepository(db, effects),
    handin: new HandinRepository(db, effects),
    webhooks: new WebhooksRepository(db, effects),
    stats: new StatsRepository(db),
    geo: new GeoRepository(db),
    fraud: new FraudRepository(db, effects),
    audit,
    jobs,
  };

  // The worker is created before the services so they can nudge it when they queue a job.
  let worker: JobWorker | null = null;
  const nudge = () => worker?.nudge();
  const petitions = new PetitionsService(
    repositories.petitions,
    clock,
    {
      secretKey: config.secretKey,
      timeZone: config.timeZone,
      baseUrl: config.baseUrl,
      moderation: config.moderation,
      rejectionReasons: config.rejectionReasons,
      rejectionReasonsWelsh: config.rejectionReasonsWelsh,
      supportersRequired: config.supportersRequired,
      signingReadCacheMs: config.pageCacheMs,
      listingCacheMs: config.pageCacheMs,
    },
    nudge,
  );
  const webhooks = new WebhooksService(repositories.webhooks, petitions, repositories.signatures, clock, { production: config.env === 'production', siteName: config.siteName }, nudge);
  const ipPolicy = new IpPolicy(config.secretKey, config.blockedIps);
  const fraud = new FraudService(repositories.fraud, petitions, ipPolicy, clock, { liveSignatures: config.fraudReviewLiveSignatures }, nudge);
  const rateLimitStore: RateLimitStore = config.rateLimitStore === 'database' ? new DatabaseRateLimitStore(db) : new MemoryRateLimitStore();
  const signatures = new SignaturesService(repositories.signatures, petitions, clock, config.secretKey, nudge, {
    blockedEmailDomains: config.blockedEmailDomains,
    listens: (event) => webhooks.anyListening(event),
    ipPolicy,
    challenge: config.signChallenge === 'proof-of-work' ? new ProofOfWorkChallenge(config.secretKey, config.signChallengeBits, clock, rateLimitStore) : null,
    limiter: config.rateLimit
      ? new SigningRateLimiter(rateLimitStore, { perIpPerPetition: config.signLimitPerIp, perDomainPerPetition: config.signLimitPerDomain, windowMs: 3_600_000 }, () => clock().getTime())
      : null,
    // The signature is gone and the kept findings marked outdated, both in the removal's own
    // transaction: a failure to take the signer's traces out of the findings now must not tell
    // them their removal failed. The next look at the findings computes them without the signer.
    forgetSigner: (removed) =>
      fraud.forgetSigner(removed).catch((err: { code?: unknown; message?: unknown }) => {
        log.error({ petitionId: removed.petitionId, code: err?.code, reason: String(err?.message ?? err) }, 'a removed signer could not be taken out of the kept fraud findings; they are outdated and will be computed again');
      }),
  });
  const broadcasts = new BroadcastsService(
    repositories.broadcasts,
    petitions,
    mailer,
    clock,
    { baseUrl: config.baseUrl, siteName: config.siteName, secretKey: config.secretKey },
    nudge,
  );
  const maps = new MapOutlineCache(repositories.geo);
  const endorsements = new EndorsementsService(repositories.endorsements, repositories.uploads, petitions, clock, config.secretKey, nudge);
  const services = {
    users: new UsersService(
      repositories.users,
      clock,
      config.secretKey,
      nudge,
      config.passwordBreachCheck ? new BreachedPasswordCheck(config.passwordBreachApi, (err) => log.warn({ err }, 'the breached-password check could not be made; the password was allowed')) : null,
      config.passwordHashing,
    ),
    auth: new AuthService(repositories.auth, clock),
    petitions,
    signatures,
    teams: new TeamsService(repositories.teams, petitions, clock, config.secretKey, nudge),
    broadcasts,
    updates: new UpdatesService(repositories.updates, repositories.uploads, petitions, broadcasts, clock),
    endorsements,
    press: new PressService(repositories.press, petitions, clock),
    milestones: new MilestonesService(repositories.milestones, petitions, repositories.teams, mailer, clock, {
      siteName: config.siteName,
      responseThreshold: config.responseThreshold,
      debateThreshold: config.debateThreshold,
      moderators: () => repositories.users.listModerators(),
    }),
    handin: new HandinService(
      repositories.handin,
      repositories.uploads,
      repositories.teams,
      audit,
      petitions,
      endorsements,
      broadcasts,
      clock,
      { siteName: config.siteName, timeZone: config.timeZone, maxExportsAtOnce: config.maxExportsAtOnce },
    ),
    webhooks,
    stats: new StatsService(repositories.stats, clock, { timeZone: config.timeZone }),
    geo: new GeoService(repositories.geo, repositories.stats, () => maps.invalidate()),
    maps,
    liveCounts: new LiveCounts({
      read: (ids) => repositories.petitions.signatureCounts(ids),
      maxListeners: config.maxLiveViewers,
      onError: (err) => log.warn({ err }, 'live counts could not be read'),
    }),
    fraud,
    pageCache: new PublicPageCache(config.pageCacheMs, () => clock().getTime()),
    jobs: new JobsService(jobs, audit, clock, nudge),
  };
  const visitors = new VisitorRate(config.jobYieldAt);
  worker = new JobWorker({
    jobs,
    log,
    clock,
    pollMs: overrides.workerPollMs,
    lockMs: config.jobLockMs,
    concurrency: config.jobConcurrency,
    // In a worker process of its own no request is ever counted, so it never yields.
    busy: config.jobYieldAt > 0 ? () => visitors.busy : undefined,
    periodic: [
        { name: 'close petitions at their deadline', everyMs: config.deadlineSweepMs, run: () => petitions.closeExpiredPetitions() },
        {
          name: 'erase signers’ details after the retention period',
          everyMs: 3_600_000,
          run: async () => {
            const closedBefore = new Date(clock().getTime() - config.retentionDays * 86_400_000).toISOString();
            await repositories.signatures.eraseExpired(closedBefore, clock());
          },
        },
        { name: 'count signatures by place and hour', everyMs: STATS_FOLD_MS, run: () => services.stats.fold() },
        { name: 'record milestones', everyMs: config.deadlineSweepMs, run: () => services.milestones.detect() },
        {
          name: 'drop signers’ IP addresses after the fraud-review period',
          everyMs: 3_600_000,
          run: async () => {
            const before = new Date(clock().getTime() - config.ipRetentionDays * 86_400_000).toISOString();
            while ((await repositories.signatures.dropIpAddresses(before, 1000)) === 1000) await letOtherWritersIn();
            await services.fraud.forgetIpAddresses(before);
          },
        },
        {
          name: 'fold finished petitions’ counter shards',
          everyMs: 3_600_000,
          run: async () => {
            while ((await repositories.signatures.foldFinishedCounters(500)) === 500) await letOtherWritersIn();
          },
        },
        { name: 'forget webhook deliveries after their log period', everyMs: 3_600_000, run: () => webhooks.forgetOldDeliveries() },
        { name: 'forget jobs given up a month ago', everyMs: 3_600_000, run: () => services.jobs.forgetOldGivenUp() },
        { name: 'forget ended rate-limit windows', everyMs: 300_000, run: () => rateLimitStore.sweep(clock().getTime()) },
        { name: 'forget expired sessions', everyMs: 3_600_000, run: () => repositories.auth.deleteExpiredSessions(clock().toISOString()) },
      ],
    handlers: {
      ...broadcasts.jobHandlers(),
      ...webhooks.jobHandlers(),
      ...services.milestones.jobHandlers(),
      ...services.fraud.jobHandlers(),
      ...endorsementJobHandlers({ endorsements: services.endorsements, petitions, mailer, baseUrl: config.baseUrl, siteName: config.siteName }),
      ...accountJobHandlers({ users: services.users, mailer, baseUrl: config.baseUrl, siteName: config.siteName }),
      ...petitionJobHandlers({ petitions, teams: repositories.teams, mailer, siteName: config.siteName }),
      ...teamJobHandlers({ teams: services.teams, petitions, users: services.users, mailer, baseUrl: config.baseUrl, siteName: config.siteName }),
      ...signatureJobHandlers({
        signaturesRepository: repositories.signatures,
        signatures,
        petitions,
        mailer,
        baseUrl: config.baseUrl,
        siteName: config.siteName,
      }),
    },
  });

  const finalWorker = worker;
  const metrics = new SiteMetrics({
    signing: () => signatures.activity,
    commits: () => repositories.signatures.commitStats(),
    jobsFinished: () => finalWorker.finished,
    jobQueue: () => services.jobs.queue(),
    pool: () => (db.pool ? { total: db.pool.totalCount, idle: db.pool.idleCount, waiting: db.pool.waitingCount } : null),
  });
  return {
    config,
    db,
    log,
    clock,
    mailer,
    devOutbox,
    repositories,
    services,
    worker: finalWorker,
    visitors,
    rateLimitStore,
    metrics,
    async close() {
      await finalWorker.stop();
      // Signatures already on their way to the database are stored before it closes.
      await repositories.signatures.settled();
      mailer.close();
      await closeDatabase(db);
    },
  };
}
