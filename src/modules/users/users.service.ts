import argon2 from 'argon2';
import { z } from 'zod';
import { isUniqueViolation } from '../../db/dialect.ts';
import type { UserRole, UserRow } from '../../db/schema.ts';
import { AppError, validationError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import type { UsersRepository } from './users.repository.ts';

/** A signed-in person: campaigner or admin. */
export interface User {
  id: number;
  email: string;
  name: string;
  role: UserRole;
}

export const MIN_PASSWORD_LENGTH = 10;

const NewUserSchema = z.object({
  email: z.email('Enter a valid email address').max(254).transform((e) => e.toLowerCase()),
  name: z.string().trim().min(1, 'Enter a name').max(100),
  password: z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters`).max(1000),
  role: z.enum(['admin', 'campaigner']),
});

/** Normalises an email address for lookup: trimmed, lower case. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

export class UsersService {
  // Verified against when the email is unknown, so a failed sign-in takes as long either way.
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly users: UsersRepository,
    private readonly clock: Clock,
  ) {}

  /** Creates a staff account (campaigner or admin) with an argon2id password hash. */
  async createUser(input: { email: string; name: string; password: string; role: UserRole }): Promise<User> {
    const parsed = NewUserSchema.safeParse({ ...input, email: input.email.trim() });
    if (!parsed.success) {
      throw validationError(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])));
    }
    const passwordHash = await argon2.hash(parsed.data.password, { type: argon2.argon2id });
    try {
      const row = await this.users.insert({
        email: parsed.data.email,
        name: parsed.data.name,
        passwordHash,
        role: parsed.data.role,
        createdAt: this.clock().toISOString(),
      });
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AppError('validation_failed', 'An account with this email already exists', { field: 'email' });
      }
      throw err;
    }
  }

  /** Returns the user when the email and password match, otherwise null (same timing either way). */
  async verifyCredentials(email: string, password: string): Promise<User | null> {
    const row = await this.users.findByEmail(emailKey(email));
    if (!row) {
      this.dummyHash ??= argon2.hash('not a real password', { type: argon2.argon2id });
      await argon2.verify(await this.dummyHash, password).catch(() => false);
      return null;
    }
    const ok = await argon2.verify(row.password_hash, password).catch(() => false);
    return ok ? toUser(row) : null;
  }

  async findByEmail(email: string): Promise<User | null> {
    const row = await this.users.findByEmail(emailKey(email));
    return row ? toUser(row) : null;
  }
}
