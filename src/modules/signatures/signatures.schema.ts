import { z } from 'zod';
import { isCountryCode } from '../../lib/countries.ts';
import { normaliseUkPostcode, UK_POSTCODE_COUNTRIES } from '../../lib/postcode.ts';
import { singleLine } from '../../lib/text.ts';

/** A form checkbox or JSON boolean. Missing means no: consent is never assumed. */
const optIn = z
  .union([z.boolean(), z.literal('on'), z.literal('true'), z.literal('1'), z.literal('yes')])
  .optional()
  .transform((v) => v === true || v === 'on' || v === 'true' || v === '1' || v === 'yes');

/** What a member of the public gives to sign; the JSON body and the web form share it. */
export const SignInput = z
  .object({
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
  })
  .transform((input, ctx) => {
    let postcode = input.postcode ? input.postcode : null;
    if (UK_POSTCODE_COUNTRIES.has(input.country)) {
      if (!postcode) {
        ctx.addIssue({ code: 'custom', path: ['postcode'], message: 'Enter your postcode (UK signers)' });
        return z.NEVER;
      }
      postcode = normaliseUkPostcode(postcode);
      if (!postcode) {
        ctx.addIssue({ code: 'custom', path: ['postcode'], message: 'Enter a valid UK postcode, like SW1A 1AA' });
        return z.NEVER;
      }
    }
    return { ...input, postcode };
  });
export type SignInput = z.output<typeof SignInput>;

export const SignAccepted = z.object({
  data: z.object({ status: z.literal('pending_confirmation') }),
});
