import { createHash } from 'node:crypto';

/**
 * Asks a "Pwned Passwords" range API (k-anonymity: only the first five characters of the
 * password's SHA-1 leave this machine) whether a password has appeared in a known breach. Off
 * unless PASSWORD_BREACH_CHECK=on; when the service cannot be reached the password is allowed
 * (and `onError` is told), so an outage never stops anyone signing up.
 */
export class BreachedPasswordCheck {
  constructor(
    private readonly apiBase: string,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly timeoutMs = 3000,
  ) {}

  async isBreached(password: string): Promise<boolean> {
    const hash = createHash('sha1').update(password).digest('hex').toUpperCase();
    const prefix = hash.slice(0, 5);
    const suffix = hash.slice(5);
    try {
      const res = await fetch(`${this.apiBase}${prefix}`, { headers: { 'add-padding': 'true' }, signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new Error(`breached-password service answered ${res.status}`);
      for (const line of (await res.text()).split('\n')) {
        const [candidate, count] = line.trim().split(':');
        if (candidate === suffix && Number(count) > 0) return true;
      }
      return false;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }
}
