import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

/**
 * Watches how late the event loop runs, over windows of `windowMs`: when the mean delay in a
 * window passes `maxDelayMs`, the process is overloaded and sheds new requests until a window
 * comes in under it. A window with no samples at all keeps the previous verdict (a busy loop
 * can miss a sample without being in trouble), which avoids shedding on a single slow tick.
 */
export class LoadMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly timer: NodeJS.Timeout;
  private overloaded = false;
  /** The mean delay (ms) in the last complete window. */
  lastDelayMs = 0;

  constructor(
    private readonly maxDelayMs: number,
    windowMs = 500,
  ) {
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), windowMs);
    this.timer.unref();
  }

  get isOverloaded(): boolean {
    return this.overloaded;
  }

  private sample(): void {
    if (this.histogram.count === 0) return;
    this.lastDelayMs = Math.max(0, this.histogram.mean / 1e6 - RESOLUTION_MS);
    this.overloaded = this.lastDelayMs > this.maxDelayMs;
    this.histogram.reset();
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
