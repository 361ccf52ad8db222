/**
 * Work that would hold the web process's event loop for milliseconds at a time (SQLite's
 * synchronous statements, drawing images) runs on a worker thread: the caller sends a named
 * task and its input, and the event loop goes on answering visitors until the result comes back.
 * The thread starts on the first task and, given `idleMs`, stops once idle that long, giving its
 * memory back (a WebAssembly renderer's, a connection's page cache).
 *
 * The thread's entry answers its tasks with `answerTasks`.
 */
import { fileURLToPath } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';

/** What a thread answers for one task. */
export type TaskReply = { id: number; result: unknown } | { id: number; error: { name: string; message: string; code?: string; stack?: string } };

/** An error thrown in a task thread, as the caller sees it (with its code, e.g. SQLite's, if any). */
export class TaskThreadError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'TaskThreadError';
  }
}

// Found from here, not from the working directory, as bin/undersign.js does.
const TSX_API = import.meta.url.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : '';
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

export interface TaskThreadOptions {
  /** What the thread is called in errors ("the SQLite thread"). */
  name: string;
  /** The thread's entry: a .ts file in the sources (tests, `tsx`), a .js file in dist/. */
  entry: URL;
  /** What the entry reads as `workerData`. */
  workerData?: unknown;
  /** The thread's V8 old-generation limit, in MB (built files only). */
  heapMb?: number;
  /** Stop the thread after this long without a task (its memory back to the process); the next task starts another. */
  idleMs?: number | null;
}

/**
 * A worker thread started on first use. `run` sends a named task and its input (structured-cloned:
 * plain data, Dates, buffers) and resolves with the task's result, or rejects with its error.
 */
export class TaskThread<Task extends string> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly heapMb: number;
  private readonly idleMs: number | null;

  constructor(private readonly options: TaskThreadOptions) {
    this.heapMb = options.heapMb ?? 48;
    this.idleMs = options.idleMs ?? null;
  }

  /** Whether the thread is up now (it starts on the first task, and stops when closed or idle). */
  get isRunning(): boolean {
    return this.worker !== null;
  }

  /** Tasks sent and not yet answered. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Runs `task` on the thread; settles with its result or its error. */
  run<Result>(task: Task, input: unknown): Promise<Result> {
    if (this.closed) return Promise.reject(new Error(`${this.options.name} is closed`));
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      // Keep the process alive only while an answer is awaited.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, task, input });
    });
  }

  /** Stops the thread after the tasks sent so far have been answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    if (!worker) return;
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 5));
    this.worker = null;
    await worker.terminate();
  }

  /** Whether the thread holds something beyond its pending tasks that an idle stop would lose (e.g. an open stream). */
  protected holdsState(): boolean {
    return false;
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const { entry, workerData } = this.options;
    // From the sources (tests, `tsx`), the thread first registers tsx's loader, which worker
    // threads do not inherit; the built files load as they are.
    const worker = entry.pathname.endsWith('.ts')
      ? new Worker(
          `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register({ tsconfig: ${JSON.stringify(TSCONFIG)} }); return import(${JSON.stringify(entry.href)}); });`,
          { eval: true, workerData },
        )
      : // A small heap keeps the process within its memory budget.
        new Worker(entry, { workerData, resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 8 } });
    worker.unref();
    worker.on('message', (reply: TaskReply) => this.settle(reply));
    // A thread that dies (it should not) fails what it held; the next task starts a new one.
    const fail = (err: unknown) => {
      // A thread stopped on purpose (closed, or idle) had answered everything: what waits now is the next thread's.
      if (this.worker !== worker) return;
      this.worker = null;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting) p.reject(err instanceof Error ? err : new Error(`${this.options.name} stopped (${String(err)})`));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`${this.options.name} exited with code ${code}`));
      else if (this.worker === worker) this.worker = null;
    });
    this.worker = worker;
    return worker;
  }

  private stopIdle(): void {
    this.idleTimer = null;
    const worker = this.worker;
    if (!worker || this.pending.size > 0 || this.holdsState()) return;
    this.worker = null;
    void worker.terminate();
  }

  private settle(reply: TaskReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) {
      this.worker?.unref();
      if (this.idleMs !== null) {
        this.idleTimer = setTimeout(() => this.stopIdle(), this.idleMs);
        this.idleTimer.unref();
      }
    }
    if ('error' in reply) {
      const err = new TaskThreadError(reply.error.message, reply.error.code);
      if (reply.error.stack) err.stack = `${err.name}: ${reply.error.message}\n    (in ${this.options.name})\n${reply.error.stack.split('\n').slice(1).join('\n')}`;
      waiting.reject(err);
    } else waiting.resolve(reply.result);
  }
}

/** In a thread's entry: answers each task sent by TaskThread.run with what its function returns, or its error. */
export function answerTasks(tasks: Record<string, (input: never) => unknown>): void {
  parentPort!.on('message', async ({ id, task, input }: { id: number; task: string; input: never }) => {
    let reply: TaskReply;
    try {
      reply = { id, result: await tasks[task]!(input) };
    } catch (err) {
      const e = err as { name?: string; message?: string; code?: string; stack?: string };
      reply = { id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: e?.code, stack: e?.stack } };
    }
    parentPort!.postMessage(reply);
  });
}
