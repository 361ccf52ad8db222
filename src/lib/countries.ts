import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';

const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));

export interface Country {
  code: string;
  name: string;
}

/** ISO 3166-1 alpha-2 countries with English names, sorted by name, the UK first. */
export const COUNTRIES: readonly Country[] = (() => {
  const names = countries.getNames('en', { select: 'official' });
  const list = Object.entries(names)
    .map(([code, name]) => ({ code, name }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en'));
  const uk = list.findIndex((c) => c.code === 'GB');
  if (uk > 0) list.unshift(...list.splice(uk, 1));
  return list;
})();

const byCode = new Map(COUNTRIES.map((c) => [c.code, c.name]));

/** True for a known ISO 3166-1 alpha-2 code (upper case). */
export function isCountryCode(code: string): boolean {
  return byCode.has(code);
}

export function countryName(code: string): string {
  return byCode.get(code) ?? code;
}
