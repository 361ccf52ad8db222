import { withExample } from '../openapi/examples.ts';
import { z } from 'zod';
import { multiLine, singleLine } from '../../lib/text.ts';

const optional = (schema: z.ZodType<string>) =>
  schema
    .optional()
    .nullable()
    .transform((v) => (v ? v : null));

const WebAddress = z
  .string()
  .trim()
  .max(500)
  .refine((v) => v === '' || /^https?:\/\/[^\s]+$/i.test(v), 'Enter a web address starting with https://');

export const EndorsementInput = withExample(
  z.object({
  kind: z.enum(['person', 'organisation'], { error: 'Choose person or organisation' }),
  name: singleLine({ min: 2, max: 150, required: 'Enter the name' }),
  role: optional(singleLine({ max: 150 })),
  organisation: optional(singleLine({ max: 150 })),
  quote: optional(multiLine({ max: 600 })),
  url: optional(WebAddress),
  }),
  { kind: 'organisation', name: 'Anti-Slavery International', quote: 'We support this petition.', url: 'https://www.antislavery.org/' },
);

export const InviteEndorserInput = EndorsementInput.pick({ kind: true, name: true, role: true, organisation: true }).extend({
  email: z
    .string({ error: 'Enter their email address' })
    .trim()
    .max(254)
    .pipe(z.email('Enter an email address like name@example.org'))
    .transform((e) => e.toLowerCase()),
});

export const EndorserQuoteInput = z.object({
  quote: multiLine({ min: 3, max: 600, required: 'Write a short statement of support' }),
  url: optional(WebAddress),
});

export const EndorsementOutput = z.object({
  id: z.number().int(),
  kind: z.enum(['person', 'organisation']),
  name: z.string(),
  role: z.string().nullable(),
  organisation: z.string().nullable(),
  quote: z.string().nullable(),
  url: z.string().nullable(),
  image_url: z.string().nullable(),
  verified: z.boolean(),
  position: z.number().int(),
});

export const EndorsementParams = z.object({ slug: z.string().min(1).max(200), id: z.coerce.number().int().positive() });
