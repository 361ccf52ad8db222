/** Sends a petition's new count to one viewer. */
export type CountListener = (count: number) => void;

export interface LiveCountsOptions {
  /** Reads the current counts of the petitions being watched (one query for all of them). */
  read: (petitionIds: number[]) => Promise<Map<number, number>>;
  pollMs?: number;
  /** Most viewers one process serves at once; more are turned away with 503. */
  maxListeners?: number;
  onError?: (err: unknown) => void;
}

/**
 * Live counts for Server-Sent Events. However many people watch, each process reads the watched
 * petitions' counts once per interval (a few counter rows each) and tells only the viewers whose
 * count changed. Because it reads the shared database, a signature confirmed through any app
 * process reaches viewers on every process.
 */
export class LiveCounts {
  private readonly listeners = new Map<number, Set<CountListener>>();
  private readonly last = new Map<number, number>();
  private readonly closers = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly pollMs: number;
  private readonly maxListeners: number;

  constructor(private readonly options: LiveCountsOptions) {
    this.pollMs = options.pollMs ?? 1000;
    this.maxListeners = options.maxListeners ?? 5_000;
  }

  /** How many viewers are connected to this process. */
  get size(): number {
    return this.closers.size;
  }

  /**
   * Starts sending a petition's count changes to `listener`; `close` is called if the process shuts
   * down. Returns the function that stops it, or null when this process is already full.
   */
  subscribe(petitionId: number, count: number, listener: CountListener, close: () => void): (() => void) | null {
    if (this.closers.size >= this.maxListeners) return null;
    const set = this.listeners.get(petitionId) ?? this.listeners.set(petitionId, new Set()).get(petitionId)!;
    set.add(listener);
    if (!this.last.has(petitionId)) this.last.set(petitionId, count);
    this.closers.add(close);
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.closers.delete(close);
      set.delete(listener);
      if (set.size === 0) {
        this.listeners.delete(petitionId);
        this.last.delete(petitionId);
      }
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  /** Ends every stream (the server is shutting down). */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.listeners.size === 0) return;
    this.polling = true;
    try {
      const counts = await this.options.read([...this.listeners.keys()]);
      for (const [petitionId, set] of this.listeners) {
        const count = counts.get(petitionId) ?? 0;
        if (this.last.get(petitionId) === count) continue;
        this.last.set(petitionId, count);
        for (const listener of set) listener(count);
      }
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.polling = false;
    }
  }
}
