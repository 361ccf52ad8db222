/**
 * Results of reads kept for a moment, by key: a read that every visitor makes alike (the home
 * page's lists, the site's total) then costs one query per interval rather than one per visitor.
 * One read at a time per key: callers that ask while it runs share its answer. A failed read is
 * not kept. `ttlMs` 0 keeps nothing.
 */
export class RecentResults<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => Date.now(),
    private readonly maxEntries = 200,
  ) {}

  /** The kept result of `key` while it is younger than the interval; otherwise `read()`'s, kept. */
  get(key: string, read: () => Promise<T>): Promise<T> {
    if (this.ttlMs <= 0) return read();
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    return this.keep(key, now, read());
  }

  /**
   * The kept results of several keys; those not kept, or too old, are read together by one
   * `read(missing)`, which answers with a result for each key it is given, in their order (a
   * page of search results: its petitions read in one query, or not at all when each was read a
   * moment ago). A failed read fails every caller that waits for it, and none of it is kept.
   */
  getMany(keys: string[], read: (missing: string[]) => Promise<T[]>): Promise<T[]> {
    if (this.ttlMs <= 0) return read(keys);
    const now = this.now();
    const values = new Map<string, Promise<T>>();
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const hit = this.entries.get(key);
      if (hit && now - hit.at < this.ttlMs) values.set(key, hit.value);
      else missing.push(key);
    }
    if (missing.length > 0) {
      const all = read(missing);
      missing.forEach((key, i) => values.set(key, this.keep(key, now, all.then((results) => results[i]!))));
    }
    return Promise.all(keys.map((key) => values.get(key)!));
  }

  private keep(key: string, now: number, value: Promise<T>): Promise<T> {
    // A key read again goes to the back of the line (a Map keeps a key where it was first set):
    // when the keys run out, the one read longest ago goes, not the busiest (a viral petition,
    // read every moment since the process started, behind a search's twenty petitions).
    if (!this.entries.delete(key) && this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const entry = { at: now, value };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  /** Forgets one key's result (after a change to what it read). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every kept result (after a change the public should see at once). */
  clear(): void {
    this.entries.clear();
  }
}
