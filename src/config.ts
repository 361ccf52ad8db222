import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

/** Where the database lives: an embedded SQLite file, or a PostgreSQL server. */
export type DatabaseLocation =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string };

export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  baseUrl: string;
  database: DatabaseLocation;
  databasePoolMax: number;
  /** Folder for files the site keeps next to its data: the dev secret, the dev mail outbox. */
  dataDir: string;
  /** `null` sends mail to the dev outbox in `dataDir` instead of an SMTP server. */
  smtpUrl: string | null;
  /** SMTP connections each process keeps open to the relay: emails a second ≈ connections ÷ the relay's time a message. */
  smtpConnections: number;
  mailFrom: string;
  secretKey: string;
  logLevel: string;
  rateLimit: boolean;
  trustProxy: boolean;
  migrateOnStart: boolean;
  /** IANA zone in which a deadline given as a plain date ends (at 23:59:59). */
  timeZone: string;
  siteName: string;
  /** The language of pages for visitors whose browser accepts neither English nor Welsh. */
  defaultLanguage: 'en' | 'cy';
  /** When on, petitions go through the moderation queue; when off, owners open their own. */
  moderation: boolean;
  /** Reasons a moderator can give for rejecting a petition: code → wording shown to the public. */
  rejectionReasons: Record<string, string>;
  /** The same reasons' wording in Welsh, by code (REJECTION_REASONS_CY); a code without one shows the English. */
  rejectionReasonsWelsh: Record<string, string>;
  /** Supporters (signatures through a private link) a submitted petition needs before moderation. */
  supportersRequired: number;
  /** How often the worker closes petitions whose deadline passed. */
  deadlineSweepMs: number;
  /** How long a worker holds a job before another may take it over (when the first died). */
  jobLockMs: number;
  /** The most jobs (mostly emails) a worker runs at once. */
  jobConcurrency: number;
  /**
   * Requests a second at which a worker in the web process runs a tenth of `jobConcurrency`
   * jobs, leaving the CPU to visitors (0: never).
   */
  jobYieldAt: number;
  /** Signatures at which a petition awaits the decision-maker's response (moderators are told). */
  responseThreshold: number;
  /** Signatures at which a petition is considered for debate. */
  debateThreshold: number;
  /** Email domains that may not sign (besides disposable-address services, always refused). */
  blockedEmailDomains: string[];
  /** A web signature sent sooner than this after the form was shown is treated as a bot's. */
  signMinSeconds: number;
  /** Days after a petition closes before its signers' personal data is erased (counts stay). */
  retentionDays: number;
  /** Days a signature's IP address is kept for fraud review; then only a keyed hash of it remains. */
  ipRetentionDays: number;
  /** IP addresses and ranges (CIDR) that may not sign. */
  blockedIps: string[];
  /** Where rate-limit counters live: 'database' shares them between app processes. */
  rateLimitStore: 'memory' | 'database';
  /** Signatures one IP address may give one petition per hour. */
  signLimitPerIp: number;
  /** Signatures one email domain may give one petition per hour (large webmail providers are exempt). */
  signLimitPerDomain: number;
  /** An emergency check before each signature: off, or a proof-of-work puzzle solved by the browser. */
  signChallenge: 'off' | 'proof-of-work';
  /** How hard the puzzle is: leading zero bits (16 is about a second on a phone). */
  signChallengeBits: number;
  /** Refuse passwords found in known breaches (asks PASSWORD_BREACH_API with a 5-character hash prefix). */
  passwordBreachCheck: boolean;
  passwordBreachApi: string;
  /** Answer 503 with Retry-After while the event loop lags more than this (0 turns load shedding off). */
  maxEventLoopDelayMs: number;
  /** Signatures (and, apart, confirmations) that may wait for their transaction; past it, 503 with Retry-After. */
  maxWaitingSignatures: number;
  /** Most live-count streams (Server-Sent Events) one process serves; more are answered 503. */
  maxLiveViewers: number;
  /** Exports of signatures (hand-in pack, signers' CSV) a process streams at once; past it, 503 with Retry-After. */
  maxExportsAtOnce: number;
  /** Petitions with fewer confirmed signatures are fraud-reviewed live; bigger ones by a job, their findings kept (FraudService.report). */
  fraudReviewLiveSignatures: number;
  /** argon2id's cost for new staff password hashes. */
  passwordHashing: PasswordHashing;
  /** How long a public petition page may be served from memory to visitors not signed in (0: never). */
  pageCacheMs: number;
  /**
   * Where Prometheus metrics are served (`GET /metrics`), on a port of their own; null: not
   * served, and requests are not timed for them.
   */
  metrics: { host: string; port: number } | null;
}

/** argon2id's cost parameters (memory in KiB, passes, lanes); each stored hash records its own. */
export interface PasswordHashing {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** The argon2 library's defaults: 64 MiB, three passes, four lanes (about 0.2 s a hash here). */
export const DEFAULT_PASSWORD_HASHING: PasswordHashing = { memoryCost: 65_536, timeCost: 3, parallelism: 4 };

/** The reasons moderators pick from unless REJECTION_REASONS says otherwise. */
export const DEFAULT_REJECTION_REASONS: Record<string, string> = {
  duplicate: 'It duplicates a petition that is already open',
  not_actionable: 'It asks for something the decision-maker cannot do',
  offensive: 'It is offensive or defamatory',
  personal_data: 'It contains personal information about someone',
  nonsense: 'It is nonsense, a joke or an advert',
};

/** The default reasons in Welsh, shown on Welsh pages unless REJECTION_REASONS replaces them. */
export const DEFAULT_REJECTION_REASONS_CY: Record<string, string> = {
  duplicate: 'Mae’n dyblygu deiseb sydd eisoes ar agor',
  not_actionable: 'Mae’n gofyn am rywbeth na all y sawl sy’n gwneud y penderfyniad ei wneud',
  offensive: 'Mae’n sarhaus neu’n ddifenwol',
  personal_data: 'Mae’n cynnwys gwybodaeth bersonol am rywun',
  nonsense: 'Mae’n nonsens, yn jôc neu’n hysbyseb',
};

function parseReasons(value: string, variable = 'REJECTION_REASONS'): Record<string, string> {
  const reasons: Record<string, string> = {};
  for (const item of value.split('|')) {
    const [code, ...label] = item.split('=');
    const key = code?.trim() ?? '';
    if (!/^[a-z][a-z0-9_]{0,40}$/.test(key) || !label.join('=').trim()) {
      throw new ConfigError(`${variable}: use code=Wording|code=Wording, codes in lower case (e.g. duplicate=Duplicate of an open petition)`);
    }
    reasons[key] = label.join('=').trim();
  }
  return reasons;
}

/** Thrown for configuration the site cannot start with; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const booleanFlag = z
  .enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['on', 'true', '1', 'yes'].includes(v));

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z.string().min(1).default('sqlite://./data/undersign.sqlite'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  DATA_DIR: z.string().min(1).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  SMTP_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(10),
  MAIL_FROM: z.string().min(3).optional(),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters long').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT: booleanFlag.default(true),
  TRUST_PROXY: booleanFlag.default(false),
  MIGRATE_ON_START: booleanFlag.default(true),
  TIME_ZONE: z
    .string()
    .default('Europe/London')
    .refine((tz) => isValidTimeZone(tz), 'must be an IANA time zone such as Europe/London'),
  SITE_NAME: z.string().min(1).max(60).default('Undersign'),
  DEFAULT_LANGUAGE: z.enum(['en', 'cy']).default('en'),
  MODERATION: booleanFlag.optional(),
  REJECTION_REASONS: z.string().min(3).optional(),
  REJECTION_REASONS_CY: z.string().min(3).optional(),
  SUPPORTERS_REQUIRED: z.coerce.number().int().min(0).max(1000).default(0),
  DEADLINE_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  JOB_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
  JOB_YIELD_AT: z.coerce.number().int().min(0).default(1000),
  RESPONSE_THRESHOLD: z.coerce.number().int().min(1).default(10_000),
  DEBATE_THRESHOLD: z.coerce.number().int().min(1).default(100_000),
  BLOCKED_EMAIL_DOMAINS: z.string().default(''),
  SIGN_MIN_SECONDS: z.coerce.number().min(0).max(60).default(3),
  RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
  IP_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  BLOCKED_IPS: z
    .string()
    .default('')
    .refine((v) => splitList(v).every((entry) => parseIpRange(entry) !== null), 'must be IP addresses or CIDR ranges, separated by commas (e.g. 203.0.113.7,198.51.100.0/24)'),
  RATE_LIMIT_STORE: z.enum(['memory', 'database']).optional(),
  SIGN_LIMIT_PER_IP: z.coerce.number().int().min(1).default(250),
  SIGN_LIMIT_PER_DOMAIN: z.coerce.number().int().min(1).default(500),
  SIGN_CHALLENGE: z.enum(['off', 'proof-of-work']).default('off'),
  SIGN_CHALLENGE_BITS: z.coerce.number().int().min(4).max(24).default(16),
  PASSWORD_BREACH_CHECK: booleanFlag.default(false),
  PASSWORD_BREACH_API: z.url().default('https://api.pwnedpasswords.com/range/'),
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  MAX_WAITING_SIGNATURES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  MAX_LIVE_VIEWERS: z.coerce.number().int().min(0).max(1_000_000).default(5_000),
  MAX_EXPORTS_AT_ONCE: z.coerce.number().int().min(1).max(100).default(1),
  FRAUD_REVIEW_LIVE_SIGNATURES: z.coerce.number().int().min(0).max(100_000_000).default(200_000),
  // No lower than OWASP's minimum for argon2id (19 MiB, two passes).
  PASSWORD_HASH_MEMORY_KIB: z.coerce.number().int().min(19_456).max(4_194_304).default(DEFAULT_PASSWORD_HASHING.memoryCost),
  PASSWORD_HASH_TIME_COST: z.coerce.number().int().min(2).max(20).default(DEFAULT_PASSWORD_HASHING.timeCost),
  PASSWORD_HASH_PARALLELISM: z.coerce.number().int().min(1).max(16).default(DEFAULT_PASSWORD_HASHING.parallelism),
  PAGE_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
});

function splitList(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter(Boolean);
}

/** "203.0.113.0/24" → its address, prefix and family; a bare address is a range of one; null if invalid. */
export function parseIpRange(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText] = entry.split('/');
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses `sqlite://<path>` or `postgres://…` into a {@link DatabaseLocation}. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    const path = url.replace(/^sqlite:(\/\/)?/, '');
    if (!path) throw new ConfigError('DATABASE_URL: sqlite:// needs a file path, e.g. sqlite://./data/undersign.sqlite');
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw new ConfigError('DATABASE_URL: must start with sqlite:// or postgres://');
}

/**
 * Reads the configuration from environment variables (see the README for the list).
 * Outside production, a missing SECRET_KEY is generated once and kept in the data folder.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const database = parseDatabaseUrl(e.DATABASE_URL);
  const production = e.NODE_ENV === 'production';
  if (production && !e.SECRET_KEY) throw new ConfigError('SECRET_KEY: required when NODE_ENV=production (at least 32 characters)');
  if (production && !e.SMTP_URL) throw new ConfigError('SMTP_URL: required when NODE_ENV=production (smtp://user:pass@host:port)');
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) throw new ConfigError('METRICS_PORT: must differ from PORT (metrics are served apart from the site)');

  const dataDir = resolve(
    e.DATA_DIR ?? (database.kind === 'sqlite' && database.path !== ':memory:' ? dirname(database.path) : './data'),
  );
  const baseUrl = (e.BASE_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/+$/, '');
  const host = new URL(baseUrl).hostname;

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    baseUrl,
    database,
    databasePoolMax: e.DATABASE_POOL_MAX,
    dataDir,
    smtpUrl: e.SMTP_URL ?? null,
    smtpConnections: e.SMTP_CONNECTIONS,
    mailFrom: e.MAIL_FROM ?? `${e.SITE_NAME} <no-reply@${host.includes('.') ? host : 'localhost.localdomain'}>`,
    secretKey: e.SECRET_KEY ?? devSecret(dataDir),
    logLevel: e.LOG_LEVEL,
    rateLimit: e.RATE_LIMIT,
    trustProxy: e.TRUST_PROXY,
    migrateOnStart: e.MIGRATE_ON_START,
    timeZone: e.TIME_ZONE,
    siteName: e.SITE_NAME,
    defaultLanguage: e.DEFAULT_LANGUAGE,
    moderation: e.MODERATION ?? production,
    rejectionReasons: e.REJECTION_REASONS ? parseReasons(e.REJECTION_REASONS) : DEFAULT_REJECTION_REASONS,
    rejectionReasonsWelsh: e.REJECTION_REASONS_CY
      ? parseReasons(e.REJECTION_REASONS_CY, 'REJECTION_REASONS_CY')
      : e.REJECTION_REASONS
        ? {}
        : DEFAULT_REJECTION_REASONS_CY,
    supportersRequired: e.SUPPORTERS_REQUIRED,
    deadlineSweepMs: e.DEADLINE_SWEEP_SECONDS * 1000,
    jobLockMs: e.JOB_LOCK_SECONDS * 1000,
    jobConcurrency: e.JOB_CONCURRENCY,
    jobYieldAt: e.JOB_YIELD_AT,
    responseThreshold: e.RESPONSE_THRESHOLD,
    debateThreshold: e.DEBATE_THRESHOLD,
    blockedEmailDomains: e.BLOCKED_EMAIL_DOMAINS.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean),
    signMinSeconds: e.SIGN_MIN_SECONDS,
    retentionDays: e.RETENTION_DAYS,
    ipRetentionDays: e.IP_RETENTION_DAYS,
    blockedIps: splitList(e.BLOCKED_IPS),
    // One SQLite process counts exactly in memory; PostgreSQL sites run several processes.
    rateLimitStore: e.RATE_LIMIT_STORE ?? (database.kind === 'postgres' ? 'database' : 'memory'),
    signLimitPerIp: e.SIGN_LIMIT_PER_IP,
    signLimitPerDomain: e.SIGN_LIMIT_PER_DOMAIN,
    signChallenge: e.SIGN_CHALLENGE,
    signChallengeBits: e.SIGN_CHALLENGE_BITS,
    passwordBreachCheck: e.PASSWORD_BREACH_CHECK,
    passwordBreachApi: e.PASSWORD_BREACH_API,
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    maxWaitingSignatures: e.MAX_WAITING_SIGNATURES,
    maxLiveViewers: e.MAX_LIVE_VIEWERS,
    maxExportsAtOnce: e.MAX_EXPORTS_AT_ONCE,
    fraudReviewLiveSignatures: e.FRAUD_REVIEW_LIVE_SIGNATURES,
    passwordHashing: { memoryCost: e.PASSWORD_HASH_MEMORY_KIB, timeCost: e.PASSWORD_HASH_TIME_COST, parallelism: e.PASSWORD_HASH_PARALLELISM },
    pageCacheMs: e.PAGE_CACHE_MS,
    metrics: e.METRICS_PORT === undefined ? null : { host: e.METRICS_HOST, port: e.METRICS_PORT },
  };
}

/** A secret generated on first start and kept in the data folder, so sessions and links survive restarts. */
function devSecret(dataDir: string): string {
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    // Another process started at the same moment and wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}
