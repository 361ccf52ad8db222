/**
 * How many requests the site is answering, counted over windows of `windowMs`. `busy` says
 * whether the last complete window, or the current one so far, reached `busyPerSecond`: what a
 * job worker sharing the process checks before taking on more jobs (see JobWorkerOptions.busy).
 */
export class VisitorRate {
  private count = 0;
  private windowStart: number;
  /** Requests a second in the last complete window. */
  private lastRate = 0;

  constructor(
    private readonly busyPerSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = 500,
  ) {
    this.windowStart = now();
  }

  /** Counts one request (called for every request: a counter and a clock read). */
  record(): void {
    this.roll();
    this.count++;
  }

  get busy(): boolean {
    this.roll();
    return this.lastRate >= this.busyPerSecond || (this.count * 1000) / this.windowMs >= this.busyPerSecond;
  }

  private roll(): void {
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed < this.windowMs) return;
    // A window longer than two is a quiet spell: what was counted before it is past.
    this.lastRate = elapsed >= 2 * this.windowMs ? 0 : (this.count * 1000) / elapsed;
    this.count = 0;
    this.windowStart = now;
  }
}
