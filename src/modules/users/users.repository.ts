import type { Db } from '../../db/database.ts';
import type { UserRole, UserRow } from '../../db/schema.ts';

export class UsersRepository {
  constructor(private readonly db: Db) {}

  async insert(user: { email: string; name: string; passwordHash: string; role: UserRole; createdAt: string }): Promise<UserRow> {
    return this.db.kysely
      .insertInto('users')
      .values({ email: user.email, name: user.name, password_hash: user.passwordHash, role: user.role, created_at: user.createdAt })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.kysely.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  async findById(id: number): Promise<UserRow | undefined> {
    return this.db.kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
