import { AppError } from '../../lib/errors.ts';
import { TaskThread } from '../../lib/task-thread.ts';

/** The images the thread draws (src/image-thread.ts). */
export type ImageTask = 'card.png' | 'qr.png';

// In the sources the thread's entry is src/image-thread.ts; in dist/ it is bundled beside this
// module's chunk (scripts/build.js).
const ENTRY = import.meta.url.endsWith('.ts') ? new URL('../../image-thread.ts', import.meta.url) : new URL('./image-thread.js', import.meta.url);

/**
 * Draws PNGs on a thread of their own: a share card takes tens of milliseconds, as a QR code did
 * on the event loop, where each held up every visitor's answer meanwhile (with four crawlers
 * fetching QR codes the petition page served a thirteenth of its rate). The renderer takes ~40 MB
 * once started (src/image-thread.ts); the thread stops when idle for `idleMs`, giving most of it back.
 */
export class ImageThread {
  private readonly thread: TaskThread<ImageTask>;
  private readonly maxWaiting: number;

  constructor(options: { idleMs?: number; maxWaiting?: number } = {}) {
    this.thread = new TaskThread<ImageTask>({ name: 'the image thread', entry: ENTRY, heapMb: 64, idleMs: options.idleMs ?? 30_000 });
    this.maxWaiting = options.maxWaiting ?? 8;
  }

  /** Whether the thread is up (it starts on the first image and stops when idle). */
  get isRunning(): boolean {
    return this.thread.isRunning;
  }

  /** The share card's SVG drawn as a 1200-pixel-wide PNG. */
  cardPng(svg: string): Promise<Buffer> {
    return this.draw('card.png', { svg });
  }

  /** A QR code of `url`, about 600 pixels wide. */
  qrPng(url: string): Promise<Buffer> {
    return this.draw('qr.png', { url });
  }

  /** Stops the thread once the images asked for are drawn. */
  close(): Promise<void> {
    return this.thread.close();
  }

  private async draw(task: ImageTask, input: unknown): Promise<Buffer> {
    // A crawler sweeping every petition's images waits its turn rather than queueing without end.
    if (this.thread.waiting >= this.maxWaiting) throw new AppError('service_unavailable', 'Too many images are being drawn just now; please try again in a moment.', { retryAfterSeconds: 5 });
    const png = await this.thread.run<Uint8Array>(task, input);
    return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  }
}
