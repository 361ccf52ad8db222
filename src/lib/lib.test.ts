import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCountryCode } from './countries.ts';
import { normaliseUkPostcode } from './postcode.ts';
import { endOfDayInZone } from './time.ts';
import { Slots } from './slots.ts';
import { TokenSigner } from './tokens.ts';
import { TimeSlice } from './time-slice.ts';
import { crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { crc32Continue, crc32Shift } from './crc32.ts';

describe('TokenSigner', () => {
  const signer = new TokenSigner('a-secret-key-of-at-least-32-characters!', 'signature-confirmation');

  it('verifies its own tokens and returns the id', () => {
    const token = signer.sign(1804);
    assert.match(token, /^1804\.[A-Za-z0-9_-]{43}$/);
    assert.equal(signer.verify(token), 1804);
  });

  it('refuses a token whose id or mac was changed', () => {
    const token = signer.sign(42);
    assert.equal(signer.verify(token.replace(/^42/, '43')), null);
    const mac = token.split('.')[1]!;
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
    assert.equal(signer.verify(`42.${flipped}`), null);
  });

  it('refuses tokens made for another purpose or with another key', () => {
    const other = new TokenSigner('a-secret-key-of-at-least-32-characters!', 'unsubscribe');
    const otherKey = new TokenSigner('another-secret-key-of-at-least-32-chars', 'signature-confirmation');
    assert.equal(signer.verify(other.sign(7)), null);
    assert.equal(signer.verify(otherKey.sign(7)), null);
  });

  it('refuses malformed input without throwing', () => {
    for (const bad of ['', '.', '1.', 'abc.def', '0.' + 'a'.repeat(43), '1.' + 'a'.repeat(44), '99999999999999999.' + 'a'.repeat(43), '1.' + '!'.repeat(43)]) {
      assert.equal(signer.verify(bad), null, bad);
    }
  });
});

describe('normaliseUkPostcode', () => {
  it('normalises spacing and case', () => {
    assert.equal(normaliseUkPostcode('sw1a1aa'), 'SW1A 1AA');
    assert.equal(normaliseUkPostcode('  ec1a   1bb '), 'EC1A 1BB');
    assert.equal(normaliseUkPostcode('M1 1AE'), 'M1 1AE');
  });

  it('rejects strings that are not postcodes', () => {
    for (const bad of ['', 'SW1A', '12345', 'not a postcode', 'SW1A 1AAA']) assert.equal(normaliseUkPostcode(bad), null, bad);
  });
});

describe('endOfDayInZone', () => {
  it('ends the day in London time, winter and summer', () => {
    assert.equal(endOfDayInZone('2026-11-15', 'Europe/London'), '2026-11-15T23:59:59.999Z');
    assert.equal(endOfDayInZone('2026-07-15', 'Europe/London'), '2026-07-15T22:59:59.999Z');
  });

  it('handles zones west of UTC', () => {
    assert.equal(endOfDayInZone('2026-01-10', 'America/New_York'), '2026-01-11T04:59:59.999Z');
  });
});

describe('isCountryCode', () => {
  it('knows ISO 3166-1 alpha-2 codes', () => {
    assert.ok(isCountryCode('GB'));
    assert.ok(isCountryCode('DE'));
    assert.ok(!isCountryCode('UK'));
    assert.ok(!isCountryCode('gb'));
  });
});

describe('Slots', () => {
  it('gives at most its size of places, each back once however often it is given back', () => {
    const slots = new Slots(2);
    const first = slots.take();
    const second = slots.take();
    assert.ok(first && second);
    assert.equal(slots.take(), null);
    first();
    first();
    assert.equal(slots.inUse, 1);
    const third = slots.take();
    assert.ok(third);
    assert.equal(slots.take(), null);
    second();
    third();
    assert.equal(slots.inUse, 0);
  });
});

describe('TimeSlice', () => {
  it('lets other work in once a long loop has held the event loop for its slice, and not before', async (t) => {
    // From one pause to the next (the first: from the slice's start) the slice's own clock ran at
    // least its 5 ms, however long the machine kept this process waiting in between: that is
    // "not before".
    let lastPause = performance.now();
    const slice = new TimeSlice(5);
    assert.equal(slice.due(), null, 'a slice just begun');
    let fired = 0;
    const timer = setInterval(() => fired++, 1);
    t.after(() => clearInterval(timer));
    // 60 ms of work, not counting the pauses (on a busy machine a pause may take long).
    let pauses = 0;
    let worked = 0;
    let from = performance.now();
    let shortest = Infinity;
    while (worked + (performance.now() - from) < 60) {
      const pause = slice.due();
      if (pause) {
        const now = performance.now();
        shortest = Math.min(shortest, now - lastPause);
        lastPause = now;
        pauses++;
        worked += now - from;
        await pause;
        from = performance.now();
      }
    }
    clearInterval(timer);
    assert.ok(shortest >= 5, `no pause sooner than 5 ms after the last (${shortest.toFixed(2)} ms)`);
    // Without the pauses the timer could not fire once during the loop. The slice starts its
    // clock before this loop resumes, so on a busy machine (CI) a slice holds less of the work
    // counted here and a 60 ms loop may see more than 12 pauses (13 seen in CI); pausing on
    // every row, or every millisecond, would give hundreds or ~60.
    assert.ok(pauses >= 4 && pauses <= 20, `one pause every 5 ms of 60 ms of work, give or take a busy machine (${pauses})`);
    assert.ok(fired >= pauses - 2, `the timer ran in the pauses (${fired} of ${pauses})`);
  });
});

describe('CRC-32 continued past bytes known in advance', () => {
  it('gives the checksum of the two pieces read together, whatever their lengths', () => {
    const sizes = [0, 1, 3, 8, 255, 4096, 30_000, 70_001];
    for (const a of sizes)
      for (const b of sizes) {
        const first = randomBytes(a);
        const second = randomBytes(b);
        assert.equal(crc32Continue(crc32(first) >>> 0, crc32(second) >>> 0, crc32Shift(b)), crc32(Buffer.concat([first, second])) >>> 0, `${a} then ${b} bytes`);
      }
    // Three pieces, as a page with a visitor's value between two fixed parts.
    const [head, value, tail] = [Buffer.from('<p>Hello '), Buffer.from('Ffion'), Buffer.from('</p>')];
    const twoOfThem = crc32Continue(crc32(head) >>> 0, crc32(value) >>> 0, crc32Shift(value.length));
    assert.equal(crc32Continue(twoOfThem, crc32(tail) >>> 0, crc32Shift(tail.length)), crc32(Buffer.from('<p>Hello Ffion</p>')) >>> 0);
  });
});

describe('IpPolicy.hash', () => {
  it('is the keyed hash stored since migration 0012: HMAC-SHA-256 of "ip:" and the address under the site secret, 11 characters', async () => {
    const { createHmac } = await import('node:crypto');
    const { IpPolicy } = await import('../modules/safety/ip-policy.ts');
    const secret = 'a-secret-key-of-at-least-32-characters!';
    const policy = new IpPolicy(secret, []);
    const stored = (ip: string) => createHmac('sha256', secret).update(`ip:${ip}`).digest('base64url').slice(0, 11);
    assert.equal(policy.hash('203.0.113.7'), stored('203.0.113.7'));
    assert.equal(policy.hash('::ffff:203.0.113.7'), stored('203.0.113.7'), 'an IPv4 address seen through IPv6 is the same address');
    assert.equal(policy.hash('2001:db8::1'), stored('2001:db8::1'));
  });
});
