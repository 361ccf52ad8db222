import { withExample } from '../openapi/examples.ts';
import { z } from 'zod';
import { multiLine, singleLine } from '../../lib/text.ts';

const flag = z
  .union([z.boolean(), z.literal('on'), z.literal('true'), z.literal('1')])
  .optional()
  .transform((v) => v === true || v === 'on' || v === 'true' || v === '1');

export const UpdateInput = withExample(
  z.object({
  title: singleLine({ min: 3, max: 150, required: 'Give the update a title' }),
  body: multiLine({ min: 1, max: 20_000, required: 'Write the update' }),
  email_signers: flag,
  }),
  { title: 'Trafficker jailed for 16 years', body: 'Thanks to the unit’s work, a **trafficker** was jailed today.', email_signers: true },
);

export const UpdateOutput = z.object({
  id: z.number().int(),
  title: z.string(),
  body: z.string(),
  body_html: z.string(),
  image_url: z.string().nullable(),
  url: z.string(),
  author: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  email: z.object({ total: z.number().int(), sent: z.number().int(), finished: z.boolean() }).nullable(),
});

export const UpdateParams = z.object({ slug: z.string().min(1).max(200), id: z.coerce.number().int().positive() });
