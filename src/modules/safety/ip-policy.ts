import { createHmac } from 'node:crypto';
import { BlockList } from 'node:net';
import { parseIpRange } from '../../config.ts';

/**
 * What the site does with signers' IP addresses: refuses blocked ones, and turns each into a
 * keyed hash that lets moderators group signatures from one address long after the address
 * itself has been dropped (the hash cannot be reversed without the site's secret).
 */
export class IpPolicy {
  private readonly blocked = new BlockList();
  /** Most sites block nothing: then no address is looked up (BlockList.check costs a parse each time). */
  private blocksAny = false;

  constructor(
    private readonly secretKey: string,
    blockedRanges: string[],
  ) {
    for (const entry of blockedRanges) {
      const range = parseIpRange(entry);
      if (range) {
        this.blocked.addSubnet(range.address, range.prefix, range.family);
        this.blocksAny = true;
      }
    }
  }

  isBlocked(ip: string | null): boolean {
    if (!ip || !this.blocksAny) return false;
    const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    return this.blocked.check(plain, plain.includes(':') ? 'ipv6' : 'ipv4');
  }

  /**
   * The keyed hash that groups an address's signatures after the address is dropped: 11
   * characters (66 bits; migration 0012 cut stored hashes to this prefix), enough that two
   * addresses in one petition's ten million collide about once in a million petitions.
   */
  hash(ip: string): string {
    const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    return createHmac('sha256', this.secretKey).update(`ip:${plain}`).digest('base64url').slice(0, 11);
  }
}
