import type { Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import type { UserRole, UserRow } from '../../db/schema.ts';

export interface NewUser {
  email: string;
  name: string;
  passwordHash: string;
  role: UserRole;
  createdAt: string;
  emailConfirmedAt: string | null;
  /** 'en' or 'cy' (English when not given). */
  language?: string;
}

export class UsersRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  /** Inserts an account with its effects (e.g. the confirmation email job) in one transaction. */
  async insert(user: NewUser, effects: (id: number) => Effects = () => ({}), now = new Date(user.createdAt)): Promise<UserRow> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('users')
        .values({
          email: user.email,
          name: user.name,
          password_hash: user.passwordHash,
          role: user.role,
          created_at: user.createdAt,
          email_confirmed_at: user.emailConfirmedAt,
          language: user.language ?? 'en',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.effects.write(trx, effects(row.id), now);
      return row;
    });
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.kysely.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  /** Everyone who moderates: they are told when a petition passes a threshold. */
  async listModerators(): Promise<{ name: string; email: string; language: string }[]> {
    return this.db.kysely.selectFrom('users').select(['name', 'email', 'language']).where('role', 'in', ['admin', 'moderator']).where('email_confirmed_at', 'is not', null).execute();
  }

  /** Remembers the language an account holder last used the site in (their emails follow it). */
  async setLanguage(id: number, language: string): Promise<void> {
    await this.db.kysely.updateTable('users').set({ language }).where('id', '=', id).where('language', '<>', language).execute();
  }

  async findById(id: number): Promise<UserRow | undefined> {
    return this.db.kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Queues effects (emails) about an existing account. */
  async enqueue(effects: Effects, now: Date): Promise<void> {
    await this.db.kysely.transaction().execute((trx) => this.effects.write(trx, effects, now));
  }

  async confirmEmail(id: number, nowIso: string): Promise<void> {
    await this.db.kysely
      .updateTable('users')
      .set({ email_confirmed_at: nowIso })
      .where('id', '=', id)
      .where('email_confirmed_at', 'is', null)
      .execute();
  }

  /** Sets a new password hash only if the old one is still `expectedHash`, and ends every session. */
  async replacePassword(id: number, expectedHash: string, newHash: string, nowIso: string): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('users')
        .set((eb) => ({ password_hash: newHash, email_confirmed_at: eb.fn.coalesce('email_confirmed_at', eb.val(nowIso)) }))
        .where('id', '=', id)
        .where('password_hash', '=', expectedHash)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
      return true;
    });
  }
}
