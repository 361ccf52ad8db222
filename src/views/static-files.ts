import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../lib/errors.ts';
import { acceptsGzip } from './page-cache.ts';

/** A file of public/ as it is served: its bytes, gzip-compressed where that is smaller, and its ETag. */
interface StaticFile {
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Types worth compressing (text); the others are compressed already and are sent as they are. */
const COMPRESSIBLE = new Set(['.css', '.js', '.svg', '.txt']);

/** How long a browser keeps a file before asking again (with its ETag: a 304 if unchanged). */
const MAX_AGE_SECONDS = 3600;

/**
 * Reads every file under `dir` into memory: public/ holds the stylesheet, a few small scripts and
 * the icon (about 20 KB), and a visitor's first view of a petition asks for three of them.
 * Served by @fastify/static, which opens and reads each file on each request, they answered
 * 2,700-3,600 requests a second against 7,700 for the petition page itself, uncompressed
 * (docs/performance.md, "2026-12-07, towards midnight"). Keep public/ small: it is all held.
 */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const body = readFileSync(path);
    const extension = extname(entry.name).toLowerCase();
    const gzipped = COMPRESSIBLE.has(extension) ? gzipSync(body, { level: 9 }) : null;
    files.set(relative(dir, path).split(sep).join('/'), {
      type: TYPES[extension] ?? 'application/octet-stream',
      body,
      gzip: gzipped && gzipped.length < body.length * 0.9 ? gzipped : null,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    });
  }
  return files;
}

/** Serves the files of `dir` at /static/… from memory (see loadStaticFiles). */
export function registerStaticFiles(app: FastifyInstance, dir: string): void {
  const files = loadStaticFiles(dir);
  app.get('/static/*', (request: FastifyRequest, reply: FastifyReply) => {
    const file = files.get((request.params as { '*': string })['*']);
    if (!file) throw notFound();
    reply.header('cache-control', `public, max-age=${MAX_AGE_SECONDS}`).header('etag', file.etag).header('vary', 'Accept-Encoding').type(file.type);
    if (matchesEtag(request.headers['if-none-match'], file.etag)) return reply.code(304).send();
    if (file.gzip && acceptsGzip(request)) return reply.header('content-encoding', 'gzip').send(file.gzip);
    return reply.send(file.body);
  });
}

/** Whether an If-None-Match header names this ETag (weak or strong, or `*`). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const value = tag.trim();
    return value === '*' || value === etag || value === `W/${etag}`;
  });
}
