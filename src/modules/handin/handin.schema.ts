import { withExample } from '../openapi/examples.ts';
import { z } from 'zod';
import { multiLine, singleLine } from '../../lib/text.ts';

const optionalLine = (max: number) =>
  singleLine({ max })
    .optional()
    .nullable()
    .transform((v) => (v ? v : null));
const flag = z
  .union([z.boolean(), z.literal('on'), z.literal('true'), z.literal('1')])
  .optional()
  .transform((v) => v === true || v === 'on' || v === 'true' || v === '1');
const Day = z.iso.date({ error: 'Enter the date like 2006-11-16' });

export const PaperBatchInput = withExample(
  z.object({
  count: z.coerce.number({ error: 'Enter how many signatures' }).int('Enter a whole number').min(1, 'Enter at least 1').max(1_000_000, 'Enter at most 1,000,000'),
  collected_on: Day,
  place: optionalLine(200),
  collected_by: optionalLine(200),
  }),
  { count: 240, collected_on: '2006-11-11', place: 'Brixton market stall', collected_by: 'Campaign volunteers' },
);

export const PaperImportDetails = PaperBatchInput.omit({ count: true });

export const DeliveryInput = withExample(
  z.object({
  delivered_at: z.union([z.iso.datetime({ offset: true }), z.iso.date(), z.iso.datetime({ local: true })], { error: 'Enter when, like 2006-11-16 or 2006-11-16T10:30' }),
  place: singleLine({ min: 2, max: 200, required: 'Say where it was handed in' }),
  recipient_name: singleLine({ min: 2, max: 200, required: 'Say who received it' }),
  recipient_body: optionalLine(200),
  presented_by: singleLine({ min: 2, max: 200, required: 'Say who presented it' }),
  notes: multiLine({ max: 5000 })
    .optional()
    .nullable()
    .transform((v) => (v ? v : null)),
  }),
  { delivered_at: '2006-11-16T10:30', place: 'City Hall, London', recipient_name: 'Sir Ian Blair', recipient_body: 'Metropolitan Police Authority', presented_by: 'The campaign team', notes: 'Handed in before the authority’s meeting.' },
);

export const ResponseInput = withExample(
  z.object({
  responder: singleLine({ min: 2, max: 200, required: 'Say who responded' }),
  responded_on: Day,
  text: multiLine({ min: 3, max: 20_000, required: 'Enter the response' }),
  document_url: z
    .string()
    .trim()
    .max(1000)
    .refine((v) => v === '' || /^https?:\/\/\S+$/i.test(v), 'Enter a web address starting with https://')
    .optional()
    .nullable()
    .transform((v) => (v ? v : null)),
  notify_signers: flag,
  }),
  { responder: 'Metropolitan Police Authority', responded_on: '2006-11-16', text: 'The unit will stay open for another year while funding is reviewed.', document_url: 'https://www.example.org/response.pdf', notify_signers: true },
);

export const OUTCOMES = ['won', 'partly_won', 'lost', 'pending'] as const;
export const OUTCOME_LABELS: Record<(typeof OUTCOMES)[number], string> = {
  won: 'Won',
  partly_won: 'Partly won',
  lost: 'Lost',
  pending: 'Decision pending',
};

export const OutcomeInput = withExample(
  z.object({
  outcome: z.enum(OUTCOMES, { error: 'Choose won, partly won, lost or pending' }),
  summary: multiLine({ min: 3, max: 5000, required: 'Summarise the outcome' }),
  notify_signers: flag,
  }),
  { outcome: 'won', summary: 'The authority kept the unit open.', notify_signers: true },
);

export const PaperRow = z.object({
  name: singleLine({ min: 1, max: 100, required: 'no name' }),
  postcode: z.string().optional(),
  email: z.string().optional(),
  country: z.string().optional(),
});
