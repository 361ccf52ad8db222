import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Effects, EffectsWriter } from '../../db/effects.ts';
import type { Selectable } from 'kysely';
import type { Database, MemberRole, PetitionInvitationsTable } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';

export interface TeamMember {
  userId: number;
  name: string;
  email: string;
  role: MemberRole;
  since: string;
  /** The language their emails are in. */
  language: string;
}

export interface Invitation {
  id: number;
  petitionId: number;
  email: string;
  role: MemberRole;
  invitedBy: number | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

/** Petition teams: members with roles, and invitations by email. A team never loses its last owner. */
export class TeamsRepository {
  constructor(
    private readonly db: Db,
    private readonly effects: EffectsWriter,
  ) {}

  async listMembers(petitionId: number): Promise<TeamMember[]> {
    const rows = await this.db.kysely
      .selectFrom('petition_members')
      .innerJoin('users', 'users.id', 'petition_members.user_id')
      .select(['users.id', 'users.name', 'users.email', 'users.language', 'petition_members.role', 'petition_members.created_at'])
      .where('petition_members.petition_id', '=', petitionId)
      .orderBy('petition_members.created_at')
      .orderBy('users.id')
      .execute();
    return rows.map((r) => ({ userId: r.id, name: r.name, email: r.email, role: r.role, since: r.created_at, language: r.language }));
  }

  /** Invitations neither accepted, revoked nor expired. */
  async listOpenInvitations(petitionId: number, nowIso: string): Promise<Invitation[]> {
    const rows = await this.db.kysely
      .selectFrom('petition_invitations')
      .selectAll()
      .where('petition_id', '=', petitionId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', nowIso)
      .orderBy('id')
      .execute();
    return rows.map(toInvitation);
  }

  async findInvitation(id: number): Promise<Invitation | null> {
    const row = await this.db.kysely.selectFrom('petition_invitations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  /** Records an invitation; `effects` receives its id (to queue the email). */
  async createInvitation(
    invitation: Omit<Invitation, 'id' | 'acceptedAt' | 'revokedAt'>,
    effects: (id: number) => Effects,
    now: Date,
  ): Promise<number> {
    return this.db.kysely.transaction().execute(async (trx) => {
      // One open invitation per address: a new one replaces the old.
      await trx
        .updateTable('petition_invitations')
        .set({ revoked_at: now.toISOString() })
        .where('petition_id', '=', invitation.petitionId)
        .where('email', '=', invitation.email)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .execute();
      const { id } = await trx
        .insertInto('petition_invitations')
        .values({
          petition_id: invitation.petitionId,
          email: invitation.email,
          role: invitation.role,
          invited_by: invitation.invitedBy,
          created_at: invitation.createdAt,
          expires_at: invitation.expiresAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.effects.write(trx, effects(id), now);
      return id;
    });
  }

  /** Turns an open invitation into membership for `userId`; false when it was used, revoked or expired. */
  async acceptInvitation(invitationId: number, userId: number, effects: Effects, now: Date): Promise<boolean> {
    const nowIso = now.toISOString();
    return this.db.kysely.transaction().execute(async (trx) => {
      const invitation = await trx
        .updateTable('petition_invitations')
        .set({ accepted_at: nowIso })
        .where('id', '=', invitationId)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', nowIso)
        .returning(['petition_id', 'role'])
        .executeTakeFirst();
      if (!invitation) return false;
      await trx
        .insertInto('petition_members')
        .values({ petition_id: invitation.petition_id, user_id: userId, role: invitation.role, created_at: nowIso })
        .onConflict((oc) => oc.columns(['petition_id', 'user_id']).doUpdateSet({ role: invitation.role }))
        .execute();
      await this.assertHasOwner(trx, invitation.petition_id);
      await this.effects.write(trx, effects, now);
      return true;
    });
  }

  async revokeInvitation(invitationId: number, effects: Effects, now: Date): Promise<boolean> {
    return this.effects.changeOne(
      this.db.kysely,
      (trx) =>
        trx
          .updateTable('petition_invitations')
          .set({ revoked_at: now.toISOString() })
          .where('id', '=', invitationId)
          .where('accepted_at', 'is', null)
          .where('revoked_at', 'is', null)
          .executeTakeFirst(),
      effects,
      now,
    );
  }

  /** Changes a member's role; refuses (and changes nothing) if the team would have no owner left. */
  async changeRole(petitionId: number, userId: number, role: MemberRole, effects: Effects, now: Date): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      await this.lockTeam(trx, petitionId);
      const result = await trx
        .updateTable('petition_members')
        .set({ role })
        .where('petition_id', '=', petitionId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await this.assertHasOwner(trx, petitionId);
      await this.effects.write(trx, effects, now);
      return true;
    });
  }

  /** Removes a member; refuses (and changes nothing) if the team would have no owner left. */
  async removeMember(petitionId: number, userId: number, effects: Effects, now: Date): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      await this.lockTeam(trx, petitionId);
      const result = await trx
        .deleteFrom('petition_members')
        .where('petition_id', '=', petitionId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) !== 1) return false;
      await this.assertHasOwner(trx, petitionId);
      await this.effects.write(trx, effects, now);
      return true;
    });
  }

  /**
   * Serialises team changes of one petition, so two owners removing each other at the same
   * moment cannot both succeed. SQLite already has a single writer.
   */
  private async lockTeam(trx: Transaction<Database>, petitionId: number): Promise<void> {
    if (this.db.kind !== 'postgres') return;
    await trx.selectFrom('petitions').select('id').where('id', '=', petitionId).forUpdate().execute();
  }

  private async assertHasOwner(trx: Transaction<Database>, petitionId: number): Promise<void> {
    const row = await trx
      .selectFrom('petition_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('petition_id', '=', petitionId)
      .where('role', '=', 'owner')
      .executeTakeFirstOrThrow();
    if (Number(row.n) < 1) {
      // Thrown inside the transaction, so the change is rolled back.
      throw new AppError('invalid_state_transition', 'A petition must always have at least one owner.');
    }
  }
}

function toInvitation(row: Selectable<PetitionInvitationsTable>): Invitation {
  return {
    id: row.id,
    petitionId: row.petition_id,
    email: row.email,
    role: row.role,
    invitedBy: row.invited_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    revokedAt: row.revoked_at,
  };
}
