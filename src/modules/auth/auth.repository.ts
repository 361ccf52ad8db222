import type { Db } from '../../db/database.ts';
import type { UserRow } from '../../db/schema.ts';

/** Sessions (browser sign-in) and API tokens. Both are stored only as SHA-256 hashes. */
export class AuthRepository {
  constructor(private readonly db: Db) {}

  async insertSession(session: { id: string; userId: number; createdAt: string; expiresAt: string }): Promise<void> {
    await this.db.kysely
      .insertInto('sessions')
      .values({ id: session.id, user_id: session.userId, created_at: session.createdAt, expires_at: session.expiresAt })
      .execute();
  }

  async findSessionUser(sessionId: string, nowIso: string): Promise<UserRow | undefined> {
    return this.db.kysely
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .where('sessions.id', '=', sessionId)
      .where('sessions.expires_at', '>', nowIso)
      .executeTakeFirst();
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.db.kysely.deleteFrom('sessions').where('id', '=', sessionId).execute();
  }

  async deleteSessionsOfUser(userId: number): Promise<void> {
    await this.db.kysely.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  async deleteExpiredSessions(nowIso: string): Promise<void> {
    await this.db.kysely.deleteFrom('sessions').where('expires_at', '<=', nowIso).execute();
  }

  async insertApiToken(token: { userId: number; tokenHash: string; label: string; createdAt: string }): Promise<void> {
    await this.db.kysely
      .insertInto('api_tokens')
      .values({ user_id: token.userId, token_hash: token.tokenHash, label: token.label, created_at: token.createdAt })
      .execute();
  }

  async findApiTokenUser(tokenHash: string): Promise<(UserRow & { token_id: number }) | undefined> {
    return this.db.kysely
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .selectAll('users')
      .select('api_tokens.id as token_id')
      .where('api_tokens.token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  async touchApiToken(tokenId: number, nowIso: string): Promise<void> {
    await this.db.kysely.updateTable('api_tokens').set({ last_used_at: nowIso }).where('id', '=', tokenId).execute();
  }
}
