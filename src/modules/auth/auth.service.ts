import { randomToken, sha256 } from '../../lib/tokens.ts';
import type { Clock } from '../../lib/time.ts';
import { AppError } from '../../lib/errors.ts';
import { toUser, type User } from '../users/users.service.ts';
import type { AuthRepository } from './auth.repository.ts';

export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
/** API tokens start with this, so they are easy to recognise (and to find if leaked). */
export const API_TOKEN_PREFIX = 'us_';

export class AuthService {
  constructor(
    private readonly auth: AuthRepository,
    private readonly clock: Clock,
  ) {}

  /** Starts a browser session; returns the cookie value (only its hash is stored). */
  async startSession(user: User): Promise<{ cookieValue: string; expiresAt: Date }> {
    const now = this.clock();
    const cookieValue = randomToken();
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await this.auth.insertSession({
      id: sha256(cookieValue),
      userId: user.id,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    });
    return { cookieValue, expiresAt };
  }

  async userForSession(cookieValue: string): Promise<User | null> {
    if (!cookieValue || cookieValue.length > 100) return null;
    const row = await this.auth.findSessionUser(sha256(cookieValue), this.clock().toISOString());
    return row ? toUser(row) : null;
  }

  async endSession(cookieValue: string): Promise<void> {
    await this.auth.deleteSession(sha256(cookieValue));
  }

  /** Signs the user out on every device (a lost phone, a shared computer). */
  async endAllSessions(user: User): Promise<void> {
    await this.auth.deleteSessionsOfUser(user.id);
  }

  /** Creates an API token for a user; the token is returned once and never stored in clear. */
  async createApiToken(user: User, label = 'API token'): Promise<string> {
    const token = API_TOKEN_PREFIX + randomToken();
    await this.auth.insertApiToken({
      userId: user.id,
      tokenHash: sha256(token),
      label,
      createdAt: this.clock().toISOString(),
    });
    return token;
  }

  /** Resolves an `Authorization: Bearer …` token to its user, or throws `unauthenticated`. */
  async userForApiToken(token: string): Promise<User> {
    const row = token.startsWith(API_TOKEN_PREFIX) && token.length < 200 ? await this.auth.findApiTokenUser(sha256(token)) : undefined;
    if (!row) throw new AppError('unauthenticated', 'The API token is missing, unknown or revoked.');
    await this.auth.touchApiToken(row.token_id, this.clock().toISOString());
    return toUser(row);
  }
}
