import type { Db } from '../../src/db/database.ts';
import { EffectsWriter } from '../../src/db/effects.ts';
import { JobsRepository } from '../../src/jobs/jobs.repository.ts';
import { AuditRepository } from '../../src/modules/audit/audit.repository.ts';
import { PetitionsRepository } from '../../src/modules/petitions/petitions.repository.ts';
import { SignaturesRepository, type NewSignature } from '../../src/modules/signatures/signatures.repository.ts';
import { TeamsRepository } from '../../src/modules/teams/teams.repository.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { signatureEmailKey } from '../../src/lib/email-keys.ts';

/** Every repository over one database, wired as the application wires them. */
export function repositoriesFor(db: Db) {
  const jobs = new JobsRepository(db);
  const audit = new AuditRepository(db);
  const effects = new EffectsWriter(jobs, audit);
  return {
    jobs,
    audit,
    users: new UsersRepository(db, effects),
    petitions: new PetitionsRepository(db, effects),
    signatures: new SignaturesRepository(db),
    teams: new TeamsRepository(db, effects),
  };
}

/** A user row for repository tests (no password hashing). */
export function userRow(email: string, role: 'admin' | 'moderator' | 'campaigner' = 'campaigner') {
  const now = '2026-10-20T10:00:00.000Z';
  return { email, name: email.split('@')[0]!, passwordHash: 'not-a-hash', role, createdAt: now, emailConfirmedAt: now };
}

let signers = 0;

/** A signature as the signing service hands it to the repository: a new address each time. */
export function newSignature(petitionId: number, overrides: Partial<NewSignature> = {}): NewSignature {
  const n = ++signers;
  return {
    petitionId,
    name: `Signer ${n}`,
    email: `Signer${n}@Example.net`,
    emailKey: signatureEmailKey(`signer${n}@example.net`),
    postcode: 'SW1A 1AA',
    country: 'GB',
    publicName: false,
    contactOptIn: false,
    consent: { public_name: null, contact_opt_in: null },
    ip: '203.0.113.9',
    ipHash: 'hash-of-203.0.113.9',
    language: 'en',
    ...overrides,
  };
}
