import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { FONTS_DIR } from '../../assets.ts';

/** The WebAssembly renderer started, and the fonts the card is drawn in, loaded on the first card. */
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

/**
 * The share card as a PNG, for social networks' link previews (`og:image`): Facebook, X,
 * LinkedIn, WhatsApp and Slack show no SVG. Drawn from the card's SVG by resvg compiled to
 * WebAssembly (no native binary), in the DejaVu fonts of assets/fonts/ (which cover Welsh); the
 * renderer (2.5 MB) and the fonts load on the first card asked for. Runs in the image thread
 * (src/image-thread.ts), never on the web process's event loop.
 */
export async function shareCardPng(svg: string): Promise<Buffer> {
  const fontBuffers = await fonts();
  const resvg = new Resvg(svg, { font: { fontBuffers, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' }, fitTo: { mode: 'width', value: 1200 } });
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
