import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import type { Db } from '../../db/database.ts';
import { AppError, notFound } from '../../lib/errors.ts';

export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** The image formats we accept, recognised by their first bytes (never by the name or the browser's word). */
const SIGNATURES: { type: string; test: (b: Buffer) => boolean }[] = [
  { type: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/gif', test: (b) => b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a' },
  { type: 'image/webp', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
];

/** The content type of an accepted image, or a validation error naming `field`. */
export function checkImage(bytes: Buffer, field: string): string {
  if (bytes.length === 0) throw new AppError('validation_failed', 'The file is empty', { field });
  if (bytes.length > MAX_IMAGE_BYTES) throw new AppError('validation_failed', 'Use an image of at most 2 MB', { field });
  const match = SIGNATURES.find((s) => s.test(bytes));
  if (!match) throw new AppError('validation_failed', 'Use a PNG, JPEG, GIF or WebP image', { field });
  return match.type;
}

/** Uploaded images, kept in the database so every app process serves the same ones. */
export class UploadsRepository {
  constructor(private readonly db: Db) {}

  async store(input: { petitionId: number; contentType: string; bytes: Buffer; createdBy: number }, now: Date): Promise<number> {
    const { id } = await this.db.kysely
      .insertInto('uploads')
      .values({
        petition_id: input.petitionId,
        content_type: input.contentType,
        size: input.bytes.length,
        bytes: input.bytes,
        created_by: input.createdBy,
        created_at: now.toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  async find(id: number): Promise<{ contentType: string; bytes: Buffer } | null> {
    const row = await this.db.kysely.selectFrom('uploads').select(['content_type', 'bytes']).where('id', '=', id).executeTakeFirst();
    return row ? { contentType: row.content_type, bytes: Buffer.from(row.bytes) } : null;
  }
}

/** Serves uploaded images with a type we checked ourselves, and a policy that runs nothing. */
export function registerUploadRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/uploads/:id', async (request, reply) => {
    const id = Number((request.params as { id: string }).id);
    const upload = Number.isSafeInteger(id) && id > 0 ? await ctx.repositories.uploads.find(id) : null;
    if (!upload) throw notFound('No such image.');
    return reply
      .type(upload.contentType)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('content-disposition', 'inline')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(upload.bytes);
  });
}
