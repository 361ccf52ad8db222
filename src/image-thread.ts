/**
 * The entry of the image thread (see src/modules/sharing/image-thread.ts): draws the PNGs that
 * take tens of milliseconds each, the share card and the QR code for flyers (resvg in
 * WebAssembly; src/modules/sharing/draw-png.ts), off the web process's event loop.
 */
import { setFlagsFromString } from 'node:v8';
import { answerTasks } from './lib/task-thread.ts';
import type { ImageTask } from './modules/sharing/image-thread.ts';
import { qrCodePng, shareCardPng } from './modules/sharing/draw-png.ts';

// V8's optimising compiler, as it tiered the renderer's 2.5 MB of WebAssembly up, took the web
// process from 142 to 239 MB while crawlers fetched cards, and 214 MB stayed once the thread had
// stopped; compiled by the baseline compiler alone, 176 MB and 145 MB, a card in 55 ms instead of
// 34 (docs/performance.md). Read when the renderer is compiled, on the first image. The flag is
// the process's: the only other WebAssembly, fetch's small HTTP parser (webhooks, the
// breached-password check), is compiled the same way if first used after it.
setFlagsFromString('--liftoff-only');

const tasks: Record<ImageTask, (input: never) => Promise<Uint8Array>> = {
  'card.png': ({ svg }: { svg: string }) => shareCardPng(svg),
  'qr.png': ({ url }: { url: string }) => qrCodePng(url),
};

answerTasks(tasks);
