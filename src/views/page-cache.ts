import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyRequest } from 'fastify';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { LANGUAGES, type LanguageSource, type RequestLanguage } from '../i18n/i18n.ts';
import { crc32Continue, crc32Shift } from '../lib/crc32.ts';
/**
 * Rendered public pages kept for a moment, so a petition going viral costs one render per
 * interval rather than one per visitor. Each process keeps its own; entries are at most
 * `ttlMs` old, so what visitors see (the count included) is never staler than that — but for one
 * render's time: when an entry expires, the next caller is told to render a fresh one (`get`
 * returns null) and, while it does, the others keep getting the expired copy, for at most another
 * `ttlMs`. Without that, every visitor arriving during the render would render too: with a busy
 * database (PostgreSQL under a signing peak) hundreds of renders a second instead of one.
 */
export class PublicPageCache {
  private readonly pages = new Map<string, { body: CachedBody; at: number; refreshing: boolean }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => Date.now(),
    private readonly maxEntries = 1000,
  ) {}

  /** The page, or null when the caller should render it (and `set` it). */
  get(key: string): CachedBody | null {
    if (this.ttlMs <= 0) return null;
    const hit = this.pages.get(key);
    if (!hit) return null;
    const age = this.now() - hit.at;
    if (age <= this.ttlMs) return hit.body;
    if (age > 2 * this.ttlMs) {
      this.pages.delete(key);
      return null;
    }
    // Expired: one caller renders, the others get this copy meanwhile. Should that render fail,
    // the copy is dropped once twice the interval old (above), and then everyone renders again.
    if (hit.refreshing) return hit.body;
    hit.refreshing = true;
    return null;
  }

  set(key: string, body: CachedBody): void {
    if (this.ttlMs <= 0) return;
    // A page rendered again goes to the back of the line (a Map keeps a key where it was first
    // set): when the cache is full, the page rendered longest ago goes, not a viral petition's
    // kept since start-up while a crawler walks a thousand others.
    if (!this.pages.delete(key) && this.pages.size >= this.maxEntries) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(key, { body, at: this.now(), refreshing: false });
  }

  /**
   * The template kept under `key`, or `render`'s, kept for the callers after: what each public
   * page, image and widget kept for a moment asks.
   */
  async template(key: string, render: () => PageTemplate | Promise<PageTemplate>): Promise<PageTemplate> {
    const kept = this.get(key);
    if (kept instanceof PageTemplate) return kept;
    const template = await render();
    this.set(key, template);
    return template;
  }

  /** Forgets one page (after a change the public should see at once) or all of them. */
  forget(key?: string): void {
    if (key === undefined) this.pages.clear();
    else this.pages.delete(key);
  }

  /** Forgets every page whose key starts with `prefix` (the lists of petitions: their keys start with their address). */
  forgetStartingWith(prefix: string): void {
    for (const key of this.pages.keys()) if (key.startsWith(prefix)) this.pages.delete(key);
  }
}

/** What the cache keeps: bytes ready to send, or a page with holes for each visitor's own values. */
export type CachedBody = Buffer | PageTemplate;

/**
 * A rendered page kept as bytes, split where each visitor's own values go (their CSRF token, the
 * form timer). Filling it in copies bytes: no search through the page and no text encoding per
 * visitor, which cost more than everything else a cached page view does.
 *
 * It is also kept gzip-compressed, each part compressed once: a gzip body may be built from
 * separately compressed pieces, each ending on a byte boundary (a sync flush), with the visitor's
 * values between them as "stored" (uncompressed) blocks, then a final block and the checksum of
 * the whole. Browsers get a fifth of the bytes, and the server compresses nothing per visitor.
 */
export class PageTemplate {
  private constructor(
    private readonly parts: Buffer[],
    private readonly holes: string[],
    private readonly compressedParts: Buffer[],
    /** Each part's CRC-32 and shift (see src/lib/crc32.ts): the gzip trailer's checksum without reading the parts per visitor. */
    private readonly partCrcs: number[],
    private readonly partShifts: number[],
  ) {}

  /** Splits `html` at every occurrence of the placeholders. */
  static split(html: string, placeholders: string[]): PageTemplate {
    const parts: Buffer[] = [];
    const holes: string[] = [];
    let from = 0;
    for (;;) {
      let at = -1;
      let found = '';
      for (const placeholder of placeholders) {
        const i = html.indexOf(placeholder, from);
        if (i !== -1 && (at === -1 || i < at)) [at, found] = [i, placeholder];
      }
      if (at === -1) break;
      parts.push(Buffer.from(html.slice(from, at)));
      holes.push(found);
      from = at + found.length;
    }
    parts.push(Buffer.from(html.slice(from)));
    const compressed = parts.map((part) => deflateRawSync(part, { finishFlush: constants.Z_SYNC_FLUSH }));
    return new PageTemplate(
      parts,
      holes,
      compressed,
      parts.map((part) => crc32(part) >>> 0),
      parts.map((part) => crc32Shift(part.length)),
    );
  }

  /** True when the page has this placeholder (so a value that costs something is made only when needed). */
  hasHole(placeholder: string): boolean {
    return this.holes.includes(placeholder);
  }

  /** The page with each placeholder replaced by its value (values are inserted as they are: pass HTML-safe text). */
  fill(values: Record<string, string>): Buffer {
    const pieces: Buffer[] = [this.parts[0]!];
    for (let i = 0; i < this.holes.length; i++) pieces.push(Buffer.from(values[this.holes[i]!] ?? ''), this.parts[i + 1]!);
    return Buffer.concat(pieces);
  }

  /** The same page as {@link fill}, as a gzip body (Content-Encoding: gzip). */
  fillGzip(values: Record<string, string>): Buffer {
    const pieces: Buffer[] = [GZIP_HEADER, this.compressedParts[0]!];
    let crc = this.partCrcs[0]!;
    let size = this.parts[0]!.length;
    for (let i = 0; i < this.holes.length; i++) {
      const value = Buffer.from(values[this.holes[i]!] ?? '');
      pieces.push(storedBlock(value), this.compressedParts[i + 1]!);
      // The visitor's value (a few dozen bytes) is simply read on; only the fixed parts are skipped.
      crc = crc32Continue(continueCrc(value, crc), this.partCrcs[i + 1]!, this.partShifts[i + 1]!);
      size += value.length + this.parts[i + 1]!.length;
    }
    const trailer = Buffer.alloc(4 + 4);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(size >>> 0, 4);
    pieces.push(FINAL_EMPTY_BLOCK, trailer);
    return Buffer.concat(pieces);
  }
}

/** CRC-32 of what came before followed by `data` (Node's crc32 answers 0 for no data, whatever came before). */
function continueCrc(data: Buffer, crc: number): number {
  return data.length === 0 ? crc : crc32(data, crc) >>> 0;
}

/** True when the request's Accept-Encoding takes gzip (every browser's does). */
export function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  return !!header && negotiate(header, ['gzip', 'identity']) === 'gzip';
}

/** gzip member header: magic, deflate, no flags, no time, no extra flags, OS unknown (RFC 1952). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** The last deflate block: final, fixed Huffman, end of block at once (RFC 1951). */
const FINAL_EMPTY_BLOCK = Buffer.from([0x03, 0x00]);

/** A non-final deflate block holding `data` uncompressed (up to 65,535 bytes). */
function storedBlock(data: Buffer): Buffer {
  if (data.length > 0xffff) throw new RangeError('a stored deflate block holds at most 65,535 bytes');
  const header = Buffer.from([0, data.length & 0xff, data.length >> 8, ~data.length & 0xff, (~data.length >> 8) & 0xff]);
  return Buffer.concat([header, data]);
}

const SOURCE_MARK: Record<LanguageSource, string> = { chosen: '', browser: '~', default: '*' };

/**
 * The cache key of a page in the visitor's language. How the language was picked is part of the
 * key: a petition page may open in the petition's own language unless the visitor chose one.
 */
export function localisedPageKey(request: RequestLanguage, name: string): string {
  return `${name}:${request.language}${SOURCE_MARK[request.languageSource]}`;
}

/** Every key {@link localisedPageKey} can give for a page, to forget them all after a change. */
export function allLocalisedPageKeys(name: string): string[] {
  return LANGUAGES.flatMap((language) => Object.values(SOURCE_MARK).map((mark) => `${name}:${language}${mark}`));
}
