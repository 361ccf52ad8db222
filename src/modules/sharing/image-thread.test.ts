import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { AppError } from '../../lib/errors.ts';
import { QR_MARGIN } from './draw-png.ts';
import { ImageThread } from './image-thread.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const card = (text: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630"><rect width="1200" height="630" fill="#fff"/><text x="80" y="200" font-family="DejaVu Sans" font-size="64">${text}</text></svg>`;

describe('the image thread', () => {
  const images = new ImageThread();
  after(() => images.close());

  it('draws share cards and QR codes as PNGs while the event loop goes on', async () => {
    // A 1 ms timer's late ticks: drawn on the event loop, a card or a QR code holds it 20–90 ms
    // in one go, nearly all the time drawing takes; on the thread only a busy machine delays it.
    let last = performance.now();
    let held = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      if (now - last > 15) held += now - last;
      last = now;
    }, 1);
    const started = performance.now();
    // The first card starts the renderer too.
    const [png, qr] = await Promise.all([images.cardPng(card('Save the night buses')), images.qrPng('https://petitions.example.org/petitions/save-the-night-buses')]);
    const more = await Promise.all([1, 2, 3].map((i) => images.cardPng(card(`Petition ${i}`))));
    const took = performance.now() - started;
    clearInterval(timer);
    if (performance.now() - last > 15) held += performance.now() - last;
    assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG card');
    assert.equal(png.readUInt32BE(16), 1200, 'the card is 1200 pixels wide');
    assert.ok(qr.subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG QR code');
    assert.ok(more.every((p) => p.subarray(0, 8).equals(PNG_SIGNATURE)));
    assert.ok(held < took / 2, `the event loop was held ${Math.round(held)} ms of the ${Math.round(took)} ms of drawing`);
  });

  it('draws a QR code that reads as its address: every module whole pixels, dark where the code is', async () => {
    const url = 'https://petitions.example.org/petitions/keep-the-night-buses-running-past-midnight';
    const image = PNG.sync.read(await images.qrPng(url));
    const code = QRCode.create(url, { errorCorrectionLevel: 'M' }).modules;
    const modules = code.size + 2 * QR_MARGIN;
    assert.equal(image.width, image.height);
    assert.equal(image.width % modules, 0, `${image.width} pixels for ${modules} modules`);
    assert.ok(image.width > 500 && image.width <= 600, `${image.width} pixels wide`);
    const scale = image.width / modules;
    let differ = 0;
    for (let row = 0; row < modules; row++)
      for (let col = 0; col < modules; col++) {
        const inCode = row >= QR_MARGIN && col >= QR_MARGIN && row < code.size + QR_MARGIN && col < code.size + QR_MARGIN;
        const dark = inCode && code.get(row - QR_MARGIN, col - QR_MARGIN) === 1;
        // Every pixel of the module, corners included: no module bleeds into the next.
        for (const [dy, dx] of [[0, 0], [0, scale - 1], [scale - 1, 0], [scale - 1, scale - 1], [scale >> 1, scale >> 1]] as const) {
          const at = ((row * scale + dy) * image.width + col * scale + dx) * 4;
          if ((image.data[at]! < 128) !== dark) differ++;
        }
      }
    assert.equal(differ, 0, 'pixels that differ from the code');
  });

  it('refuses images past those it may keep waiting, with a time to try again', async () => {
    const busy = new ImageThread({ maxWaiting: 2 });
    try {
      const drawn = await Promise.allSettled([busy.qrPng('https://example.org/a'), busy.qrPng('https://example.org/b'), busy.qrPng('https://example.org/c')]);
      assert.deepEqual(drawn.map((d) => d.status), ['fulfilled', 'fulfilled', 'rejected']);
      const refused = (drawn[2] as PromiseRejectedResult).reason;
      assert.ok(refused instanceof AppError && refused.status === 503 && refused.retryAfterSeconds === 5, String(refused));
      assert.ok((await busy.qrPng('https://example.org/c')).subarray(0, 8).equals(PNG_SIGNATURE), 'drawn once the others are');
    } finally {
      await busy.close();
    }
  });

  it('stops when idle, giving its memory back, and starts again for the next image', async () => {
    const idle = new ImageThread({ idleMs: 20 });
    try {
      await idle.qrPng('https://example.org/a');
      for (let i = 0; i < 200 && idle.isRunning; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(idle.isRunning, false, 'stopped after being idle');
      assert.ok((await idle.cardPng(card('Again'))).subarray(0, 8).equals(PNG_SIGNATURE));
      assert.equal(idle.isRunning, true);
    } finally {
      await idle.close();
    }
  });
});
