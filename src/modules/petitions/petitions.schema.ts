import { z } from 'zod';

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `Use at most ${max} characters`)
    .optional()
    .nullable()
    .transform((v) => (v ? v : null));

/** A deadline as a calendar day (closes at the end of that day, site time) or an exact ISO 8601 time. */
export const DeadlineInput = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'Enter a date like 2026-11-15' })
  .optional()
  .nullable();

/** What a campaigner gives to start a petition; the API body, and the web form after mapping. */
export const CreatePetitionInput = z.object({
  title: z.string().trim().min(10, 'Use at least 10 characters').max(150, 'Use at most 150 characters'),
  action: z
    .string()
    .trim()
    .min(10, 'Say what you are asking for in at least 10 characters')
    .max(1000, 'Use at most 1,000 characters'),
  background: z
    .string()
    .trim()
    .min(10, 'Explain why in at least 10 characters')
    .max(10_000, 'Use at most 10,000 characters'),
  target: z.object(
    {
      name: z.string().trim().min(2, 'Enter who decides').max(200, 'Use at most 200 characters'),
      role: optionalText(200),
      organisation: optionalText(200),
    },
    { error: 'Say who the petition is addressed to' },
  ),
  deadline: DeadlineInput,
  goal: z
    .number({ error: 'Enter a whole number' })
    .int('Enter a whole number')
    .min(1, 'Enter a number of at least 1')
    .max(100_000_000, 'Enter a number no larger than 100,000,000')
    .optional()
    .nullable(),
});
export type CreatePetitionInput = z.input<typeof CreatePetitionInput>;

export const TargetOutput = z.object({
  name: z.string(),
  role: z.string().nullable(),
  organisation: z.string().nullable(),
});

/** A petition as the API returns it. */
export const PetitionOutput = z.object({
  slug: z.string(),
  title: z.string(),
  action: z.string(),
  background: z.string(),
  target: TargetOutput,
  state: z.enum(['draft', 'open', 'closed']),
  signature_count: z.number().int(),
  goal: z.number().int().nullable(),
  deadline: z.string().nullable(),
  url: z.string(),
  created_at: z.string(),
  opened_at: z.string().nullable(),
  closed_at: z.string().nullable(),
});
export type PetitionOutput = z.infer<typeof PetitionOutput>;

export const SlugParams = z.object({ slug: z.string().min(1).max(200) });
