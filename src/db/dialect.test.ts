import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipFromStored, storedIp } from './dialect.ts';

describe('IP addresses as the signatures table keeps them', () => {
  it('keeps an IPv4 address as its four bytes on SQLite and reads it back as text; anything else as text', () => {
    assert.deepEqual(storedIp('sqlite', '203.0.113.7'), Uint8Array.from([203, 0, 113, 7]));
    assert.equal(ipFromStored(storedIp('sqlite', '203.0.113.7')), '203.0.113.7');
    assert.equal(ipFromStored(Buffer.from([10, 0, 0, 255])), '10.0.0.255', 'as better-sqlite3 reads a BLOB');
    for (const ip of ['2001:db8::1', '::ffff:192.0.2.1', 'not an address']) {
      assert.equal(storedIp('sqlite', ip), ip);
      assert.equal(ipFromStored(storedIp('sqlite', ip)), ip);
    }
    assert.equal(storedIp('postgres', '203.0.113.7'), '203.0.113.7');
    assert.equal(storedIp('sqlite', null), null);
    assert.equal(ipFromStored(null), null);
    assert.equal(ipFromStored('198.51.100.2'), '198.51.100.2', 'an address stored as text before');
  });
});
