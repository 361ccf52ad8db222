import assert from 'node:assert/strict';
import { it } from 'node:test';
import { VisitorRate } from './visitor-rate.ts';

it('is busy from the moment requests come at the given rate, and quiet again after a quiet spell', () => {
  let now = 0;
  const rate = new VisitorRate(200, () => now, 500);
  assert.equal(rate.busy, false);
  // 99 requests in half a second: 198 a second, not busy.
  for (let i = 0; i < 99; i++) rate.record();
  assert.equal(rate.busy, false);
  // The 100th makes 200 a second within the window: busy at once, not a window later.
  rate.record();
  assert.equal(rate.busy, true);
  // The next window has no requests yet: busy still, judged by the last complete window.
  now = 500;
  assert.equal(rate.busy, true);
  // A window with a few requests ends: quiet.
  rate.record();
  now = 1050;
  assert.equal(rate.busy, false);
  // A busy window followed by a long silence is not busy.
  for (let i = 0; i < 150; i++) rate.record();
  now = 5000;
  assert.equal(rate.busy, false);
});
