import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberRole, UserRole } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';
import { authorize, can, type Actor, type PetitionAction } from './petition-policy.ts';
import { PETITION_STATES, type PetitionState } from './petition-state.ts';

const actor = (siteRole: UserRole, memberRole: MemberRole | null = null): Actor => ({ userId: 1, siteRole, memberRole });
const ACTORS: Record<string, Actor | null> = {
  anonymous: null,
  'other campaigner': actor('campaigner'),
  viewer: actor('campaigner', 'viewer'),
  editor: actor('campaigner', 'editor'),
  owner: actor('campaigner', 'owner'),
  moderator: actor('moderator'),
  admin: actor('admin'),
};
const moderated = { moderation: true };

describe('petition policy', () => {
  it('shows public states to everyone, and the rest only to the team and moderators', () => {
    for (const state of PETITION_STATES) {
      const isPublic = state === 'open' || state === 'closed' || state === 'rejected' || state === 'delivered';
      for (const [name, a] of Object.entries(ACTORS)) {
        const expected = isPublic || !['anonymous', 'other campaigner'].includes(name);
        assert.equal(can(a, 'view', { state, hidden: false }, moderated), expected, `${name} viewing ${state}`);
      }
    }
  });

  it('hides a hidden petition from everyone but its team and moderators', () => {
    for (const [name, a] of Object.entries(ACTORS)) {
      const expected = !['anonymous', 'other campaigner'].includes(name);
      assert.equal(can(a, 'view', { state: 'open', hidden: true }, moderated), expected, name);
    }
  });

  it('lets owners and editors edit only before signing starts; never viewers or outsiders', () => {
    const table: [string, PetitionState, boolean][] = [
      ['owner', 'draft', true],
      ['editor', 'draft', true],
      ['owner', 'rejected', true],
      ['editor', 'rejected', true],
      ['owner', 'pending', false],
      ['owner', 'open', false],
      ['editor', 'closed', false],
      ['viewer', 'draft', false],
      ['other campaigner', 'draft', false],
      ['anonymous', 'draft', false],
      ['moderator', 'draft', false],
    ];
    for (const [name, state, expected] of table) {
      assert.equal(can(ACTORS[name]!, 'edit', { state, hidden: false }, moderated), expected, `${name} editing ${state}`);
    }
    for (const state of PETITION_STATES) {
      assert.ok(can(ACTORS.moderator!, 'moderate_edit', { state, hidden: false }, moderated));
      assert.ok(!can(ACTORS.owner!, 'moderate_edit', { state, hidden: false }, moderated));
    }
  });

  it('gives each action to the right people', () => {
    const who: Record<PetitionAction, string[]> = {
      view: [],
      edit: [],
      moderate_edit: ['moderator', 'admin'],
      submit: ['owner'],
      open: ['admin'],
      publish: ['moderator', 'admin'],
      reject: ['moderator', 'admin'],
      hide: ['moderator', 'admin'],
      close: ['owner', 'moderator', 'admin'],
      view_team: ['viewer', 'editor', 'owner', 'moderator', 'admin'],
      manage_team: ['owner', 'admin'],
      view_audit: ['moderator', 'admin'],
      campaign: ['editor', 'owner'],
      verify_endorsement: ['moderator', 'admin'],
      export: ['editor', 'owner', 'admin'],
      export_summary: ['viewer', 'editor', 'owner', 'moderator', 'admin'],
      record_handin: ['editor', 'owner'],
      review_fraud: ['moderator', 'admin'],
    };
    for (const [action, allowed] of Object.entries(who) as [PetitionAction, string[]][]) {
      if (action === 'view' || action === 'edit') continue;
      for (const [name, a] of Object.entries(ACTORS)) {
        assert.equal(can(a, action, { state: 'draft', hidden: false }, moderated), allowed.includes(name), `${name} → ${action}`);
      }
    }
  });

  it('lets owners open their own petitions only when moderation is off', () => {
    assert.ok(!can(ACTORS.owner!, 'open', { state: 'draft', hidden: false }, { moderation: true }));
    assert.ok(can(ACTORS.owner!, 'open', { state: 'draft', hidden: false }, { moderation: false }));
    assert.ok(!can(ACTORS.editor!, 'open', { state: 'draft', hidden: false }, { moderation: false }));
  });

  it('answers "not found" to those who may not even see the petition, "forbidden" to the rest', () => {
    const draft = { state: 'draft' as const, hidden: false };
    assert.throws(() => authorize(ACTORS['other campaigner']!, 'edit', draft, moderated), (e: AppError) => e.status === 404);
    assert.throws(() => authorize(null, 'edit', draft, moderated), (e: AppError) => e.status === 404);
    assert.throws(() => authorize(ACTORS.viewer!, 'edit', draft, moderated), (e: AppError) => e.status === 403);
    assert.throws(() => authorize(null, 'close', { state: 'open', hidden: false }, moderated), (e: AppError) => e.status === 401);
    assert.doesNotThrow(() => authorize(ACTORS.owner!, 'edit', draft, moderated));
  });
});
