import { withExample } from '../openapi/examples.ts';
import { z } from 'zod';
import { multiLine, singleLine } from '../../lib/text.ts';

const optionalLine = (max: number) =>
  singleLine({ max })
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
  title: singleLine({ min: 10, max: 150, required: 'Give the petition a title of at least 10 characters' }),
  action: multiLine({ min: 10, max: 1000, required: 'Say what you are asking for in at least 10 characters' }),
  background: multiLine({ min: 10, max: 10_000, required: 'Explain why in at least 10 characters' }),
  target: z.object(
    {
      name: singleLine({ min: 2, max: 200, required: 'Enter who decides' }),
      role: optionalLine(200),
      organisation: optionalLine(200),
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
  language: z.enum(['en', 'cy'], { error: 'Choose English or Welsh' }).optional(),
  translation: z
    .object(
      {
        title: singleLine({ min: 10, max: 150, required: 'Give the translated title at least 10 characters' }),
        action: multiLine({ min: 10, max: 1000, required: 'Give the translated request at least 10 characters' }),
        background: multiLine({ min: 10, max: 10_000, required: 'Give the translated reasons at least 10 characters' }),
      },
      { error: 'Give the title, request and reasons in the other language' },
    )
    .optional()
    .nullable(),
}).meta({
  example: {
    title: 'Keep the Met’s human trafficking unit open',
    action: 'Do not close the Metropolitan Police’s specialist human trafficking unit.',
    background: 'The unit has rescued victims and helped jail traffickers. Closing it means fewer victims come forward.',
    target: { name: 'Sir Ian Blair', role: 'Commissioner', organisation: 'Metropolitan Police' },
    deadline: '2006-11-16',
    goal: 1500,
    language: 'en',
    translation: {
      title: 'Cadwch uned masnachu pobl Heddlu’r Met ar agor',
      action: 'Peidiwch â chau uned masnachu pobl arbenigol Heddlu Metropolitan.',
      background: 'Mae’r uned wedi achub dioddefwyr ac wedi helpu i garcharu masnachwyr.',
    },
  },
});
export type CreatePetitionInput = z.input<typeof CreatePetitionInput>;

export const PetitionTextOutput = z.object({ language: z.enum(['en', 'cy']), title: z.string(), action: z.string(), background: z.string() });

export const TargetOutput = z.object({
  name: z.string(),
  role: z.string().nullable(),
  organisation: z.string().nullable(),
});

/** A petition as the API returns it. */
export const PetitionOutput = withExample(
  z.object({
  slug: z.string(),
  title: z.string(),
  action: z.string(),
  background: z.string(),
  /** The language of title, action and background; `translation` holds them in the other language. */
  language: z.enum(['en', 'cy']),
  translation: PetitionTextOutput.nullable(),
  target: TargetOutput,
  state: z.enum(['draft', 'pending', 'open', 'closed', 'rejected', 'delivered']),
  signature_count: z.number().int(),
  paper_signature_count: z.number().int(),
  total_signature_count: z.number().int(),
  goal: z.number().int().nullable(),
  deadline: z.string().nullable(),
  url: z.string(),
  created_at: z.string(),
  submitted_at: z.string().nullable(),
  opened_at: z.string().nullable(),
  closed_at: z.string().nullable(),
  rejection: z.object({ reason: z.string(), label: z.string(), details: z.string().nullable() }).nullable(),
  hidden: z.boolean(),
  delivered_at: z.string().nullable(),
  outcome: z.object({ result: z.enum(['won', 'partly_won', 'lost', 'pending']), summary: z.string().nullable(), recorded_at: z.string() }).nullable(),
  }),
  {
    slug: 'keep-the-mets-human-trafficking-unit-open',
    title: 'Keep the Met’s human trafficking unit open',
    action: 'Do not close the Metropolitan Police’s specialist human trafficking unit.',
    background: 'The unit has rescued victims and helped jail traffickers.',
    language: 'en',
    translation: null,
    target: { name: 'Sir Ian Blair', role: 'Commissioner', organisation: 'Metropolitan Police' },
    state: 'open',
    signature_count: 1804,
    paper_signature_count: 240,
    total_signature_count: 2044,
    goal: 1500,
    deadline: '2006-11-16T23:59:59.000Z',
    url: 'https://petitions.example.org/petitions/keep-the-mets-human-trafficking-unit-open',
    created_at: '2006-10-02T09:00:00.000Z',
    submitted_at: null,
    opened_at: '2006-10-02T09:05:00.000Z',
    closed_at: null,
    rejection: null,
    hidden: false,
    delivered_at: null,
    outcome: null,
  },
);
export type PetitionOutput = z.infer<typeof PetitionOutput>;

export const SlugParams = z.object({ slug: z.string().min(1).max(200) });

/** A moderator's rejection: a reason code from the configured list, and optional details for the campaigner. */
export const RejectInput = withExample(
  z.object({
  reason: z.string({ error: 'Choose a reason' }).trim().min(1, 'Choose a reason').max(60),
  details: multiLine({ max: 2000 })
    .optional()
    .nullable()
    .transform((v) => (v ? v : null)),
  }),
  { reason: 'duplicate', details: 'There is already a petition asking for this.' },
);

export const HideInput = withExample(
  z.object({
  reason: singleLine({ min: 3, max: 300, required: 'Say why the petition is hidden' }),
  }),
  { reason: 'A court order names a victim in the text.' },
);

/** Query of the public listing (`/petitions` and `GET /api/v1/petitions`). */
export const ListPetitionsQuery = z.object({
  state: z.enum(['open', 'closed', 'rejected', 'victories'], { error: 'Choose open, closed, rejected or victories' }).default('open'),
  sort: z.enum(['popular', 'newest', 'closing'], { error: 'Sort by popular, newest or closing' }).optional(),
  q: z.string().trim().max(200, 'Use at most 200 characters').default(''),
  page: z.coerce.number({ error: 'Enter a page number' }).int().min(1).max(10_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
});

export const PetitionListOutput = z.object({
  data: z.array(PetitionOutput),
  page: z.object({ number: z.number().int(), size: z.number().int(), total: z.number().int(), total_pages: z.number().int() }),
});
