import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';

/** Keeps the event loop busy, as a burst of work too big for the process would. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe('load shedding', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp('sqlite', { config: { maxEventLoopDelayMs: 50 } });
  });
  after(() => t.close());

  it('answers 503 with Retry-After while the event loop lags, and recovers', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/petitions' })).statusCode, 200);
    // Sustained overload: the loop is blocked 90 ms at a time, again and again.
    let storming = true;
    const storm = () => {
      if (!storming) return;
      busy(90);
      setImmediate(storm);
    };
    storm();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const shed = await t.app.inject({ method: 'GET', url: '/api/v1/petitions' });
      assert.equal(shed.statusCode, 503);
      assert.equal(shed.headers['retry-after'], '5');
      assert.equal(shed.json().error.code, 'service_unavailable');
      const page = await t.app.inject({ method: 'GET', url: '/' });
      assert.equal(page.statusCode, 503);
      assert.match(page.body, /The site is very busy right now/);
    } finally {
      storming = false;
    }
    const giveUp = Date.now() + 5000;
    while ((await t.app.inject({ method: 'GET', url: '/api/v1/petitions' })).statusCode !== 200) {
      assert.ok(Date.now() < giveUp, 'recovers once the lag is gone');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
