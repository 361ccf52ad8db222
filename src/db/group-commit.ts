/**
 * Group commit: work items that arrive while a batch is being committed wait and then go
 * together in the next one, so under load one transaction (one fsync on SQLite, one commit on
 * PostgreSQL) carries many items, and at rest an item goes at once with no timer. Every caller's
 * promise settles only after the commit that holds its item. If a batch fails, its items are
 * retried as batches of one, so one bad item cannot fail the others.
 */
export class GroupCommit<Item, Result> {
  private queue: { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];
  /** Batch loops running or about to start (at most `options.concurrency`). */
  private loops = 0;
  /** Items in batches being committed now. */
  private committing = 0;
  private readonly maxBatch: number;
  private readonly maxWaiting: number;
  private readonly concurrency: number;
  /** Callers of settled() waiting for the last batch to end. */
  private readonly settledWaiters: (() => void)[] = [];
  /** Transactions committed so far, and the items they held (see stats). */
  private batches = 0;
  private items = 0;

  constructor(
    /** Commits items (one or many) in one transaction; returns their results in order. */
    private readonly runBatch: (items: Item[]) => Promise<Result[]>,
    options: {
      /** The most items in one transaction. */
      maxBatch?: number;
      /**
       * The most items that may wait for a batch or its commit. Past it, `submit` refuses at once
       * (GroupCommitFull) so the caller can answer "busy, try again" instead of keeping a crowd
       * waiting without end.
       */
      maxWaiting?: number;
      /**
       * Batches committed at once. One where the database has one writer (SQLite); several where
       * a batch's time is mostly waiting for the server (PostgreSQL), so that while one commits
       * the next is already being written.
       */
      concurrency?: number;
    } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxWaiting = options.maxWaiting ?? Number.POSITIVE_INFINITY;
    this.concurrency = options.concurrency ?? 1;
  }

  submit(item: Item): Promise<Result> {
    if (this.queue.length + this.committing >= this.maxWaiting) return Promise.reject(new GroupCommitFull());
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.loops < this.concurrency) {
        this.loops++;
        // Let every request that arrived in this turn of the event loop join the batch. On SQLite
        // the statements run synchronously, so without this turn no other request would ever be
        // read while a batch is built: each batch would hold one item and pay one fsync.
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Batches and items committed so far, and items waiting for a batch or in one being committed (for the site's metrics). */
  stats(): CommitStats {
    return { batches: this.batches, items: this.items, waiting: this.queue.length + this.committing };
  }

  /**
   * Resolves once every item submitted so far has been committed (or failed): for shutting down
   * without cutting off a batch whose signers are still waiting for their answer.
   */
  settled(): Promise<void> {
    if (this.loops === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.committing += batch.length;
        try {
          const results = await this.runBatch(batch.map((b) => b.item));
          this.batches++;
          this.items += batch.length;
          batch.forEach((b, i) => b.resolve(results[i]!));
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else
            for (const b of batch)
              await this.runBatch([b.item]).then(([r]) => {
                this.batches++;
                this.items++;
                b.resolve(r!);
              }, b.reject);
        } finally {
          this.committing -= batch.length;
        }
      }
    } finally {
      this.loops--;
      if (this.loops === 0 && this.queue.length === 0) for (const resolve of this.settledWaiters.splice(0)) resolve();
    }
  }
}

/** What a group commit has done (GroupCommit.stats). */
export interface CommitStats {
  batches: number;
  items: number;
  waiting: number;
}

/** Refused, not failed: too many items were already waiting to be committed. Nothing was stored. */
export class GroupCommitFull extends Error {
  constructor() {
    super('too many items are waiting to be committed');
    this.name = 'GroupCommitFull';
  }
}
