import { withExample } from '../openapi/examples.ts';
import { z } from 'zod';
import { t, withLanguage, type Language } from '../../i18n/i18n.ts';
import { isCountryCode } from '../../lib/countries.ts';
import { validationError, type FieldErrors } from '../../lib/errors.ts';
import { normaliseUkPostcode, UK_POSTCODE_COUNTRIES } from '../../lib/postcode.ts';
import { singleLine } from '../../lib/text.ts';
import { fieldErrorsFrom } from '../petitions/petitions.service.ts';

const consentWordings = new Map<string, { public_name: string; contact_opt_in: string }>();

/** The words of each consent, as the signing form shows them in a language; recorded with every signature. */
export function consentWording(language: Language): { public_name: string; contact_opt_in: string } {
  let wording = consentWordings.get(language);
  if (!wording) {
    wording = withLanguage(language, () => ({ public_name: t('sign.consent_public_name'), contact_opt_in: t('sign.consent_contact') }));
    consentWordings.set(language, wording);
  }
  return wording;
}

/** A form checkbox or JSON boolean. Missing means no: consent is never assumed. */
const optIn = z
  .union([z.boolean(), z.literal('on'), z.literal('true'), z.literal('1'), z.literal('yes')])
  .optional()
  .transform((v) => v === true || v === 'on' || v === 'true' || v === '1' || v === 'yes');

/** What a member of the public gives to sign; the JSON body and the web form share it. */
export const SignInput = withExample(
  z.object({
  name: singleLine({ min: 1, max: 100, required: 'Enter your name' }),
  email: z
    .string({ error: 'Enter your email address' })
    .trim()
    .min(1, 'Enter your email address')
    .max(254, 'Use at most 254 characters')
    .pipe(z.email('Enter an email address like name@example.com')),
  postcode: singleLine({ max: 16 }).optional().nullable(),
  country: z
    .string({ error: 'Choose your country' })
    .trim()
    .toUpperCase()
    .refine(isCountryCode, 'Choose your country from the list'),
  public_name: optIn,
  contact_opt_in: optIn,
  /** A supporters' link token, for a petition still collecting its first supporters. */
  support_token: z.string().max(200, 'This link is not valid').optional(),
  /** The emergency check's puzzle and the browser's answer, while it is on. */
  challenge: z.string().max(100, 'Reload the page and sign again').optional(),
  challenge_answer: z.string().max(40, 'Reload the page and sign again').optional(),
  }),
  { name: 'Sam Taylor', email: 'sam@example.org', postcode: 'SW1A 1AA', country: 'GB', public_name: true, contact_opt_in: false },
);
export type SignInput = z.output<typeof SignInput>;

/**
 * Validates a signature, reporting every field at fault at once (the postcode rule depends on
 * the country, so it is checked beside the schema rather than after it). UK postcodes come back
 * normalised ("sw1a1aa" → "SW1A 1AA").
 */
export function parseSignInput(input: unknown): SignInput & { postcode: string | null } {
  const parsed = SignInput.safeParse(input);
  const errors: FieldErrors = parsed.success ? {} : fieldErrorsFrom(parsed.error.issues);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const country = typeof raw.country === 'string' ? raw.country.trim().toUpperCase() : '';
  let postcode: string | null = typeof raw.postcode === 'string' && raw.postcode.trim() ? raw.postcode.trim() : null;
  if (UK_POSTCODE_COUNTRIES.has(country) && !errors.postcode) {
    if (!postcode) errors.postcode = 'Enter your postcode (needed for UK signers)';
    else if (!(postcode = normaliseUkPostcode(postcode))) errors.postcode = 'Enter a valid UK postcode, like SW1A 1AA';
  }
  if (!parsed.success || Object.keys(errors).length > 0) throw validationError(orderLikeForm(errors));
  return { ...parsed.data, postcode };
}

const FORM_ORDER = ['name', 'email', 'country', 'postcode', 'public_name', 'contact_opt_in'];

function orderLikeForm(errors: FieldErrors): FieldErrors {
  const ordered: FieldErrors = {};
  for (const key of [...FORM_ORDER, ...Object.keys(errors)]) if (errors[key] && !ordered[key]) ordered[key] = errors[key]!;
  return ordered;
}

export const SignAccepted = z.object({
  data: z.object({ status: z.literal('pending_confirmation') }),
});
