import { DEFAULT_PASSWORD_HASHING, type PasswordHashing } from '../../config.ts';
import type { Language } from '../../i18n/i18n.ts';
import { emailKey } from '../../lib/email-keys.ts';
import argon2 from 'argon2';
import { z } from 'zod';
import { isUniqueViolation } from '../../db/dialect.ts';
import type { UserRole, UserRow } from '../../db/schema.ts';
import type { BreachedPasswordCheck } from '../safety/breached-passwords.ts';
import { AppError, validationError, type FieldErrors } from '../../lib/errors.ts';
import { singleLine } from '../../lib/text.ts';
import type { Clock } from '../../lib/time.ts';
import { ExpiringTokenSigner, TokenSigner } from '../../lib/tokens.ts';
import type { UsersRepository } from './users.repository.ts';

/** A signed-in person: campaigner, moderator or admin. */
export interface User {
  id: number;
  email: string;
  name: string;
  role: UserRole;
  emailConfirmed: boolean;
}

export const MIN_PASSWORD_LENGTH = 10;
export const PASSWORD_RESET_TTL_MS = 60 * 60 * 1000;

export const ACCOUNT_CONFIRMATION_JOB = 'account.confirm_email';
export const ACCOUNT_EXISTS_JOB = 'account.already_registered';
export const PASSWORD_RESET_JOB = 'account.password_reset';

const Email = z
  .string({ error: 'Enter your email address' })
  .trim()
  .min(1, 'Enter your email address')
  .max(254, 'Use at most 254 characters')
  .pipe(z.email('Enter an email address like name@example.com'))
  .transform((e) => e.toLowerCase());

const Password = z
  .string({ error: 'Enter a password' })
  .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1000, 'Use at most 1,000 characters');

const NewUserSchema = z.object({
  email: Email,
  name: singleLine({ min: 1, max: 100, required: 'Enter your name' }),
  password: Password,
});


export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role, emailConfirmed: row.email_confirmed_at !== null };
}

function fieldErrors(issues: { path: PropertyKey[]; message: string }[]): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of issues) fields[String(issue.path[0] ?? 'body')] ??= issue.message;
  return fields;
}

export type CredentialsResult = { status: 'ok'; user: User } | { status: 'unconfirmed'; user: User } | { status: 'invalid' };

export class UsersService {
  // Verified against when the email is unknown, so a failed sign-in takes as long either way.
  private dummyHash: Promise<string> | null = null;
  readonly emailConfirmationTokens: TokenSigner;
  private readonly resetTokens: ExpiringTokenSigner;

  constructor(
    private readonly users: UsersRepository,
    private readonly clock: Clock,
    secretKey: string,
    private readonly onJobQueued: () => void = () => {},
    /** Refuses passwords seen in breaches (PASSWORD_BREACH_CHECK); null when off. */
    private readonly breachCheck: BreachedPasswordCheck | null = null,
    /** argon2id's cost for new hashes (PASSWORD_HASH_*); a stored hash carries its own. */
    private readonly hashing: PasswordHashing = DEFAULT_PASSWORD_HASHING,
  ) {
    this.emailConfirmationTokens = new TokenSigner(secretKey, 'account-email-confirmation');
    this.resetTokens = new ExpiringTokenSigner(secretKey, 'password-reset');
  }

  /** Creates an account as an administrator would (CLI): the address counts as confirmed. */
  async createUser(input: { email: string; name: string; password: string; role: UserRole }): Promise<User> {
    const data = await this.parseNewUser(input);
    const now = this.clock();
    return this.insertUser({ ...data, role: input.role, emailConfirmedAt: now.toISOString() }, now);
  }

  /**
   * Self-service sign-up for campaigners. The answer is the same whether or not the address has
   * an account (a new one gets a confirmation link, an existing one a note with a reset link), so
   * the form cannot be used to find out who has an account.
   */
  async signUp(input: unknown, language: Language = 'en'): Promise<void> {
    const data = await this.parseNewUser(input);
    const now = this.clock();
    const existing = await this.users.findByEmail(data.email);
    if (existing) {
      await this.users.enqueue({ jobs: [{ kind: ACCOUNT_EXISTS_JOB, payload: { userId: existing.id, language } }] }, now);
    } else {
      try {
        await this.insertUser({ ...data, role: 'campaigner', emailConfirmedAt: null, language }, now, (id) => ({
          jobs: [{ kind: ACCOUNT_CONFIRMATION_JOB, payload: { userId: id } }],
        }));
      } catch (err) {
        // Two sign-ups for one address at once: the second is treated like an existing account.
        if (!(err instanceof AppError && err.field === 'email')) throw err;
      }
    }
    this.onJobQueued();
  }

  /** Confirms the address an account-confirmation link was sent to; returns the account. */
  async confirmEmail(token: string): Promise<User> {
    const id = this.emailConfirmationTokens.verify(token);
    const row = id === null ? undefined : await this.users.findById(id);
    if (!row) throw new AppError('not_found', 'This confirmation link is not valid. Check that you copied the whole link.');
    await this.users.confirmEmail(row.id, this.clock().toISOString());
    return { ...toUser(row), emailConfirmed: true };
  }

  /** Sends a new confirmation link to an account that has not confirmed its address yet. */
  async resendConfirmation(user: User): Promise<void> {
    if (user.emailConfirmed) return;
    await this.users.enqueue({ jobs: [{ kind: ACCOUNT_CONFIRMATION_JOB, payload: { userId: user.id } }] }, this.clock());
    this.onJobQueued();
  }

  /** Emails a reset link if the address has an account; says nothing either way. */
  async requestPasswordReset(input: unknown, language: Language = 'en'): Promise<void> {
    const parsed = z.object({ email: Email }).safeParse(input);
    if (!parsed.success) throw validationError(fieldErrors(parsed.error.issues));
    const row = await this.users.findByEmail(parsed.data.email);
    if (!row) return;
    await this.users.enqueue({ jobs: [{ kind: PASSWORD_RESET_JOB, payload: { userId: row.id, language } }] }, this.clock());
    this.onJobQueued();
  }

  /** A reset link for an account, valid for an hour and only until the password changes. */
  passwordResetToken(row: UserRow): string {
    return this.resetTokens.sign(row.id, new Date(this.clock().getTime() + PASSWORD_RESET_TTL_MS), row.password_hash);
  }

  /** The account a reset link is for, or an error when it is expired, used or forged. */
  async checkPasswordResetToken(token: string): Promise<UserRow> {
    const claim = this.resetTokens.peek(token, this.clock());
    const row = claim ? await this.users.findById(claim.id) : undefined;
    if (!claim || !row || !this.resetTokens.matches(claim, row.password_hash)) {
      throw new AppError('not_found', 'This reset link has expired or was already used. Ask for a new one.');
    }
    return row;
  }

  /** Sets a new password from a reset link; every existing session of the account ends. */
  async resetPassword(token: string, input: unknown): Promise<User> {
    const row = await this.checkPasswordResetToken(token);
    const parsed = z.object({ password: Password }).safeParse(input);
    if (!parsed.success) throw validationError(fieldErrors(parsed.error.issues));
    await this.assertNotBreached(parsed.data.password);
    const hash = await this.hashPassword(parsed.data.password);
    const now = this.clock().toISOString();
    if (!(await this.users.replacePassword(row.id, row.password_hash, hash, now))) {
      throw new AppError('not_found', 'This reset link was already used. Ask for a new one.');
    }
    return { ...toUser(row), emailConfirmed: true };
  }

  /** Checks an email and password (same timing whether or not the account exists). */
  async verifyCredentials(email: string, password: string, language: Language = 'en'): Promise<CredentialsResult> {
    const row = await this.users.findByEmail(emailKey(email));
    if (!row) {
      this.dummyHash ??= this.hashPassword('not a real password');
      await argon2.verify(await this.dummyHash, password).catch(() => false);
      return { status: 'invalid' };
    }
    const ok = await argon2.verify(row.password_hash, password).catch(() => false);
    if (!ok) return { status: 'invalid' };
    // Emails to a campaigner follow the language they last signed in with.
    await this.users.setLanguage(row.id, language);
    const user = toUser(row);
    return user.emailConfirmed ? { status: 'ok', user } : { status: 'unconfirmed', user };
  }

  async findByEmail(email: string): Promise<User | null> {
    const row = await this.users.findByEmail(emailKey(email));
    return row ? toUser(row) : null;
  }

  async findRowById(id: number): Promise<UserRow | null> {
    return (await this.users.findById(id)) ?? null;
  }

  private async parseNewUser(input: unknown) {
    const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    const parsed = NewUserSchema.safeParse(raw);
    if (!parsed.success) throw validationError(fieldErrors(parsed.error.issues));
    await this.assertNotBreached(parsed.data.password);
    return parsed.data;
  }

  private hashPassword(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.hashing });
  }

  private async assertNotBreached(password: string): Promise<void> {
    if (await this.breachCheck?.isBreached(password)) {
      throw validationError({ password: 'This password has appeared in a data breach, so it is easy to guess. Choose another.' });
    }
  }

  private async insertUser(
    data: { email: string; name: string; password: string; role: UserRole; emailConfirmedAt: string | null; language?: string },
    now: Date,
    effects?: (id: number) => { jobs: { kind: string; payload: Record<string, unknown> }[] },
  ): Promise<User> {
    const passwordHash = await this.hashPassword(data.password);
    try {
      const row = await this.users.insert(
        { email: data.email, name: data.name, passwordHash, role: data.role, createdAt: now.toISOString(), emailConfirmedAt: data.emailConfirmedAt, language: data.language },
        effects,
        now,
      );
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AppError('validation_failed', 'An account with this email already exists', { field: 'email' });
      }
      throw err;
    }
  }
}
