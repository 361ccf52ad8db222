import { toOutcode } from 'postcode';
import { countryName } from './countries.ts';

/**
 * Where a signer is, as shown in hand-in packs and summaries: the postcode district for UK
 * signers ("SW1A"), otherwise the country. Never the full postcode.
 */
export function areaOf(country: string, postcode: string | null): string {
  if (country === 'GB') {
    // After the retention period only the district is kept ("SW1A"), which is already the answer.
    const district = postcode ? (toOutcode(postcode) ?? (/^[A-Z]{1,2}\d[A-Z\d]?$/.test(postcode) ? postcode : null)) : null;
    return district ?? 'United Kingdom (no postcode)';
  }
  return countryName(country);
}
