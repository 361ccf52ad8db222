/** A posted form's text fields, and its uploaded image when it has one (multipart forms give files as Buffers). */
export function formParts(body: unknown, fileField = 'image'): { fields: Record<string, string>; image: Buffer | null } {
  const fields: Record<string, string> = {};
  let image: Buffer | null = null;
  for (const [key, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string') fields[key] = value;
    else if (key === fileField && Buffer.isBuffer(value) && value.length > 0) image = value;
  }
  return { fields, image };
}
