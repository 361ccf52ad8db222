import type { AppContext } from '../../src/context.ts';
import type { UserRole } from '../../src/db/schema.ts';
import type { Petition } from '../../src/modules/petitions/petitions.service.ts';
import type { User } from '../../src/modules/users/users.service.ts';

let sequence = 0;
const next = () => ++sequence;

export const DEFAULT_PASSWORD = 'correct horse battery staple';

/** A campaigner (or admin) account. */
export async function createUser(
  ctx: AppContext,
  overrides: { email?: string; name?: string; role?: UserRole; password?: string } = {},
): Promise<User> {
  const n = next();
  return ctx.services.users.createUser({
    email: overrides.email ?? `campaigner${n}@example.org`,
    name: overrides.name ?? `Campaigner ${n}`,
    password: overrides.password ?? DEFAULT_PASSWORD,
    role: overrides.role ?? 'campaigner',
  });
}

/** The story's petition: to the Met Police Commissioner, about the trafficking unit. */
export function petitionInput(overrides: Record<string, unknown> = {}) {
  return {
    title: `Keep the Met's human trafficking unit open ${next()}`,
    action: 'Do not close the specialist human trafficking unit of the Metropolitan Police.',
    background: 'The unit has helped jail traffickers.\n\nClosing it means fewer victims come forward.',
    target: { name: 'Sir Ian Blair', role: 'Commissioner', organisation: 'Metropolitan Police' },
    goal: 1500,
    ...overrides,
  };
}

const admins = new WeakMap<AppContext, Promise<User>>();

/** An administrator for the factories to act as (one per app). */
export function factoryAdmin(ctx: AppContext): Promise<User> {
  let admin = admins.get(ctx);
  if (!admin) {
    admin = createUser(ctx, { role: 'admin', name: 'Factory Admin' });
    admins.set(ctx, admin);
  }
  return admin;
}

/**
 * A petition owned by `owner` (a new campaigner if omitted), opened unless `open: false`
 * (by its owner when moderation is off, otherwise by an admin).
 */
export async function createPetition(
  ctx: AppContext,
  options: { owner?: User; input?: Record<string, unknown>; open?: boolean } = {},
): Promise<{ petition: Petition; owner: User }> {
  const owner = options.owner ?? (await createUser(ctx));
  let petition = await ctx.services.petitions.createPetition(owner, petitionInput(options.input));
  if (options.open !== false) {
    const opener = ctx.config.moderation && owner.role !== 'admin' ? await factoryAdmin(ctx) : owner;
    petition = await ctx.services.petitions.openPetition(opener, petition.slug);
  }
  return { petition, owner };
}

/** What a member of the public types into the signing form. */
export function signerInput(overrides: Record<string, unknown> = {}) {
  const n = next();
  return { name: `Signer ${n}`, email: `signer${n}@example.net`, postcode: 'SW1A 1AA', country: 'GB', ...overrides };
}

/**
 * Inserts signatures straight into the database (fast, for volume tests), keeping the petition's
 * counter in step with the confirmed ones. Returns their email addresses.
 */
export async function seedSignatures(
  ctx: AppContext,
  petitionId: number,
  count: number,
  options: { status?: 'pending' | 'confirmed'; contactOptIn?: boolean; unsubscribed?: boolean; prefix?: string; language?: 'en' | 'cy' } = {},
): Promise<string[]> {
  const now = new Date().toISOString();
  const status = options.status ?? 'confirmed';
  const prefix = options.prefix ?? `seed${next()}`;
  const emails = Array.from({ length: count }, (_, i) => `${prefix}-${i}@example.net`);
  await ctx.repositories.signatures.insertMany(
    emails.map((email, i) => ({
      petition_id: petitionId,
      name: `Signer ${prefix} ${i}`,
      email,
      postcode: 'SW1A 1AA',
      country: 'GB',
      public_name: 0,
      contact_opt_in: options.contactOptIn === false || options.unsubscribed ? 0 : 1,
      status,
      created_at: now,
      confirmed_at: status === 'confirmed' ? now : null,
      confirmation_requested_at: now,
      unsubscribed_at: options.unsubscribed ? now : null,
      language: options.language ?? 'en',
    })),
  );
  return emails;
}
