/**
 * For long work done on the event loop a row at a time (a hand-in pack of a million signatures,
 * a CSV export): lets other requests in once the work has held the loop for `ms`, whatever one
 * row costs. Counting rows instead (a break every 2,000) held the loop 140–300 ms between
 * breaks while a pack was written, and signers waited that long for their answer.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly ms = 10) {}

  /** Null while the slice lasts; past it, a promise that resolves after the event loop's next turn (other work first). */
  due(): Promise<void> | null {
    if (performance.now() - this.started < this.ms) return null;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.started = performance.now();
        resolve();
      }),
    );
  }

  /** Starts a new slice (after waiting for something else, e.g. a slow reader). */
  restart(): void {
    this.started = performance.now();
  }
}
