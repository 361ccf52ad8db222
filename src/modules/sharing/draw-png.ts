import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import QRCode from 'qrcode';
import { FONTS_DIR } from '../../assets.ts';

/** The WebAssembly renderer started, and the fonts the card is drawn in, loaded on the first image. */
let ready: Promise<Uint8Array[]> | null = null;

function fonts(): Promise<Uint8Array[]> {
  ready ??= (async () => {
    const wasm = createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm');
    await initWasm(readFile(wasm));
    return Promise.all(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((name) => readFile(new URL(name, FONTS_DIR))));
  })().catch((err: unknown) => {
    ready = null;
    throw err;
  });
  return ready;
}

/** Draws an SVG `width` pixels wide as a PNG, with the fonts if it has text. */
async function svgToPng(svg: string, width: number, withText: boolean): Promise<Buffer> {
  const fontBuffers = await fonts();
  const resvg = new Resvg(svg, { font: withText ? { fontBuffers, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } : { loadSystemFonts: false }, fitTo: { mode: 'width', value: width } });
  try {
    const image = resvg.render();
    try {
      return Buffer.from(image.asPng());
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}

/**
 * The share card as a PNG, for social networks' link previews (`og:image`): Facebook, X,
 * LinkedIn, WhatsApp and Slack show no SVG. Drawn from the card's SVG by resvg compiled to
 * WebAssembly (no native binary), in the DejaVu fonts of assets/fonts/ (which cover Welsh); the
 * renderer (2.5 MB) and the fonts load on the first image asked for. Runs in the image thread
 * (src/image-thread.ts), never on the web process's event loop.
 */
export function shareCardPng(svg: string): Promise<Buffer> {
  return svgToPng(svg, 1200, true);
}

/**
 * A QR code of `url` as a PNG about 600 pixels wide, for flyers: every module a whole number of
 * pixels, so its edges are sharp. Drawn from the code's SVG by the same renderer: the QR code
 * library's own PNG writer left 0.6 MB of buffers a code behind (the image thread grew 58 MB over
 * a hundred codes, against 11 MB over two hundred drawn this way).
 */
export async function qrCodePng(url: string): Promise<Buffer> {
  const svg = await QRCode.toString(url, { type: 'svg', margin: QR_MARGIN, errorCorrectionLevel: 'M' });
  const modules = QRCode.create(url, { errorCorrectionLevel: 'M' }).modules.size + 2 * QR_MARGIN;
  return svgToPng(svg, modules * Math.max(1, Math.floor(600 / modules)), false);
}

/** The blank modules around a QR code (scanners want some quiet space). */
export const QR_MARGIN = 2;
