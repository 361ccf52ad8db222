import { isValid, toNormalised } from 'postcode';

/**
 * Validates a UK postcode and returns it in its canonical form ("sw1a1aa" → "SW1A 1AA"),
 * or null when it is not a valid postcode.
 */
export function normaliseUkPostcode(input: string): string | null {
  const compact = input.replace(/\s+/g, '').toUpperCase();
  if (!isValid(compact)) return null;
  return toNormalised(compact);
}

/** Countries whose signers give a UK postcode. */
export const UK_POSTCODE_COUNTRIES = new Set(['GB']);
