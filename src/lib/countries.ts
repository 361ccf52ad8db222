import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';
import { currentLanguage, LANGUAGES, LOCALES, type Language } from '../i18n/i18n.ts';

const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));
countries.registerLocale(require('i18n-iso-countries/langs/cy.json'));

export interface Country {
  code: string;
  name: string;
}

/** ISO 3166-1 alpha-2 countries named in one language, sorted by name, the UK first. */
function countryList(language: Language): readonly Country[] {
  const names = countries.getNames(language, { select: 'official' });
  const english = countries.getNames('en', { select: 'official' });
  const list = Object.keys(english)
    .map((code) => ({ code, name: names[code] ?? english[code]! }))
    .sort((a, b) => a.name.localeCompare(b.name, LOCALES[language]));
  const uk = list.findIndex((c) => c.code === 'GB');
  if (uk > 0) list.unshift(...list.splice(uk, 1));
  return list;
}

const LISTS = Object.fromEntries(LANGUAGES.map((l) => [l, countryList(l)])) as Record<Language, readonly Country[]>;
const NAMES = Object.fromEntries(LANGUAGES.map((l) => [l, new Map(LISTS[l].map((c) => [c.code, c.name]))])) as Record<Language, Map<string, string>>;

/** The countries named in the current language, for the signing form's list. */
export function countriesInCurrentLanguage(): readonly Country[] {
  return LISTS[currentLanguage()];
}

/** True for a known ISO 3166-1 alpha-2 code (upper case). */
export function isCountryCode(code: string): boolean {
  return NAMES.en.has(code);
}

/** A country's name in English, or in the given language. */
export function countryName(code: string, language: Language = 'en'): string {
  return NAMES[language].get(code) ?? code;
}
