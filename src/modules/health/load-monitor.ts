import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

/**
 * Watches how late the event loop runs, over windows of `windowMs`: when the mean delay in a
 * window passes `maxDelayMs`, the process is overloaded and sheds new requests until a window
 * comes in under it. A window with no samples at all keeps the previous verdict (a busy loop
 * can miss a sample without being in trouble), which avoids shedding on a single slow tick.
 * Short of that, past `crowdedDelayMs` it is crowded: still serving, but slow to take new
 * connections (see isCrowded).
 */
export class LoadMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly timer: NodeJS.Timeout;
  private overloaded = false;
  private crowded = false;
  /** The mean delay (ms) in the last complete window. */
  lastDelayMs = 0;

  constructor(
    private readonly maxDelayMs: number,
    private readonly options: { windowMs?: number; crowdedDelayMs?: number } = {},
  ) {
    const windowMs = options.windowMs ?? 500;
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), windowMs);
    this.timer.unref();
  }

  get isOverloaded(): boolean {
    return this.overloaded;
  }

  /**
   * Busy enough (mean delay past `crowdedDelayMs`) that a new connection waits turns of the loop
   * to be taken at all, though requests are still served.
   */
  get isCrowded(): boolean {
    return this.crowded;
  }

  private sample(): void {
    if (this.histogram.count === 0) return;
    this.lastDelayMs = Math.max(0, this.histogram.mean / 1e6 - RESOLUTION_MS);
    this.overloaded = this.lastDelayMs > this.maxDelayMs;
    // Crowded until the loop is quick again (under a fifth of the mark), not just under the mark:
    // while connections are closed the loop speeds up, and keeping them again at once would let
    // the crowd back in as one (a mark of 50 ms measured a worst wait of 7 s this way, 8 s without).
    const crowdedAt = this.options.crowdedDelayMs;
    if (crowdedAt !== undefined) this.crowded = this.lastDelayMs > (this.crowded ? crowdedAt / 5 : crowdedAt);
    this.histogram.reset();
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
