import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../lib/errors.ts';
import { assertTransition, canTransition, effectiveState, PETITION_STATES } from './petition-state.ts';

const ALLOWED = new Set(['draft→pending', 'draft→open', 'pending→open', 'pending→rejected', 'rejected→pending', 'open→closed', 'open→delivered', 'closed→delivered']);

describe('petition state transitions', () => {
  for (const from of PETITION_STATES) {
    for (const to of PETITION_STATES) {
      const allowed = ALLOWED.has(`${from}→${to}`);
      it(`${from} → ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
        assert.equal(canTransition(from, to), allowed);
        if (allowed) assertTransition(from, to);
        else assert.throws(() => assertTransition(from, to), (e: AppError) => e.code === 'invalid_state_transition' && e.status === 409);
      });
    }
  }
});

describe('effectiveState', () => {
  const now = new Date('2026-11-15T12:00:00Z');
  it('shows an open petition past its deadline as closed', () => {
    assert.equal(effectiveState({ state: 'open', deadline: '2026-11-15T11:59:59.999Z' }, now), 'closed');
    assert.equal(effectiveState({ state: 'open', deadline: '2026-11-15T12:00:00.001Z' }, now), 'open');
    assert.equal(effectiveState({ state: 'open', deadline: null }, now), 'open');
    assert.equal(effectiveState({ state: 'draft', deadline: '2020-01-01T00:00:00.000Z' }, now), 'draft');
    assert.equal(effectiveState({ state: 'pending', deadline: '2020-01-01T00:00:00.000Z' }, now), 'pending');
  });
});
