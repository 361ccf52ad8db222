/**
 * A fixed number of places for work that holds something scarce for as long as a client takes
 * (an export: a database connection and a document in memory until the download ends). `take`
 * never waits: when every place is taken the caller can answer "busy, try again" at once
 * instead of keeping a request hanging on a queue it cannot see.
 */
export class Slots {
  private taken = 0;

  constructor(readonly size: number) {}

  /** A place, as the function that gives it back (calling it again does nothing), or null when all are taken. */
  take(): (() => void) | null {
    if (this.taken >= this.size) return null;
    this.taken++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.taken--;
    };
  }

  /** Places taken now. */
  get inUse(): number {
    return this.taken;
  }
}
