import type { Db } from '../../db/database.ts';

export interface Hit {
  /** Hits in the current window, this one included. */
  current: number;
  /** Milliseconds until the window ends. */
  ttl: number;
}

/** Counts hits per key in fixed windows. */
export interface RateLimitStore {
  hit(key: string, windowMs: number, now: number): Promise<Hit>;
  /** Forgets windows that have ended. */
  sweep(now: number): Promise<number>;
}

/** Counters in this process's memory: exact when one process serves the site (SQLite). */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; expiresAt: number }>();

  async hit(key: string, windowMs: number, now: number): Promise<Hit> {
    const windowKey = `${key}|${Math.floor(now / windowMs)}`;
    const expiresAt = (Math.floor(now / windowMs) + 1) * windowMs;
    const entry = this.windows.get(windowKey) ?? this.windows.set(windowKey, { count: 0, expiresAt }).get(windowKey)!;
    entry.count++;
    if (this.windows.size > 100_000) void this.sweep(now);
    return { current: entry.count, ttl: expiresAt - now };
  }

  async sweep(now: number): Promise<number> {
    let n = 0;
    for (const [key, entry] of this.windows) {
      if (entry.expiresAt <= now) {
        this.windows.delete(key);
        n++;
      }
    }
    return n;
  }
}

/**
 * Counters in the database, so every app process shares them: one upsert per hit on a row per
 * key and window. Used with PostgreSQL, where several processes serve the site.
 */
export class DatabaseRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Db) {}

  async hit(key: string, windowMs: number, now: number): Promise<Hit> {
    const window = Math.floor(now / windowMs);
    const expiresAt = (window + 1) * windowMs;
    const row = await this.db.kysely
      .insertInto('rate_limit_hits')
      .values({ key: `${key}|${window}`, count: 1, expires_at: expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ count: eb('rate_limit_hits.count', '+', 1) })))
      .returning('count')
      .executeTakeFirstOrThrow();
    return { current: Number(row.count), ttl: expiresAt - now };
  }

  async sweep(now: number): Promise<number> {
    const result = await this.db.kysely.deleteFrom('rate_limit_hits').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * Adapts a store to @fastify/rate-limit's custom-store interface (a class it constructs), so
 * route limits (`config.rateLimit`) count in the shared store too.
 */
export function fastifyStoreFor(store: RateLimitStore, now: () => number) {
  return class FastifyRateLimitStore {
    private readonly prefix: string;
    // The plugin constructs the store with its options; children carry a per-route prefix.
    constructor(options?: unknown) {
      this.prefix = typeof options === 'string' ? options : '';
    }
    incr(key: string, callback: (err: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) {
      store.hit(`${this.prefix}${key}`, timeWindow, now()).then(
        (hit) => callback(null, hit),
        (err: Error) => callback(err),
      );
    }
    child(routeOptions: object) {
      const route = routeOptions as { routeInfo?: { method?: unknown; url?: unknown }; method?: unknown; url?: unknown };
      return new FastifyRateLimitStore(`${String(route.routeInfo?.method ?? route.method)}${String(route.routeInfo?.url ?? route.url)}|`);
    }
  };
}

/** Webmail providers shared by millions: a per-domain limit on them would only stop real people. */
const SHARED_EMAIL_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'live.com', 'live.co.uk', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'ymail.com', 'icloud.com', 'me.com', 'mac.com', 'aol.com', 'btinternet.com', 'sky.com',
  'virginmedia.com', 'talktalk.net', 'protonmail.com', 'proton.me', 'gmx.com', 'gmx.co.uk', 'mail.com', 'zoho.com',
]);

export interface SigningLimits {
  /** Signatures one IP address may give to one petition per window (schools and offices share addresses). */
  perIpPerPetition: number;
  /** Signatures one email domain may give to one petition per window (big webmail providers are exempt). */
  perDomainPerPetition: number;
  windowMs: number;
}

export const DEFAULT_SIGNING_LIMITS: SigningLimits = { perIpPerPetition: 100, perDomainPerPetition: 500, windowMs: 60 * 60_000 };

export type SigningLimitVerdict = { ok: true } | { ok: false; reason: 'ip' | 'domain'; retryAfterSeconds: number };

/** The signing limits that need the form's contents: per IP and per email domain, per petition. */
export class SigningRateLimiter {
  constructor(
    private readonly store: RateLimitStore,
    private readonly limits: SigningLimits,
    private readonly now: () => number,
  ) {}

  async check(petitionId: number, ipHash: string | null, emailDomain: string): Promise<SigningLimitVerdict> {
    const now = this.now();
    if (ipHash) {
      const hit = await this.store.hit(`sign-ip|${petitionId}|${ipHash}`, this.limits.windowMs, now);
      if (hit.current > this.limits.perIpPerPetition) return { ok: false, reason: 'ip', retryAfterSeconds: Math.ceil(hit.ttl / 1000) };
    }
    if (!SHARED_EMAIL_DOMAINS.has(emailDomain)) {
      const hit = await this.store.hit(`sign-domain|${petitionId}|${emailDomain}`, this.limits.windowMs, now);
      if (hit.current > this.limits.perDomainPerPetition) return { ok: false, reason: 'domain', retryAfterSeconds: Math.ceil(hit.ttl / 1000) };
    }
    return { ok: true };
  }
}
