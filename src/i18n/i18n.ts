import { negotiate } from '@fastify/accept-negotiator';
import i18next, { type TOptions } from 'i18next';
// Imported rather than read from disk so that the built bundle (npm start) carries them.
import cyMessages from './locales/cy.messages.json' with { type: 'json' };
import cyCatalog from './locales/cy.json' with { type: 'json' };
import enCatalog from './locales/en.json' with { type: 'json' };

/** The languages Undersign speaks. English is the fallback and the language of the API's field names. */
export const LANGUAGES = ['en', 'cy'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The locale used for dates, numbers and plurals in each language. */
export const LOCALES: Record<Language, string> = { en: 'en-GB', cy: 'cy-GB' };

/** Each language's name in itself, for the language switch. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', cy: 'Cymraeg' };

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The catalogs as shipped (src/i18n/locales/<language>.json), for the completeness test. */
export function loadCatalog(language: Language): Record<string, unknown> {
  return (language === 'cy' ? cyCatalog : enCatalog) as Record<string, unknown>;
}

/**
 * Error messages are written in English where they are raised (services, schemas) and the API
 * returns them so. Pages show them in the reader's language through this catalog, keyed by the
 * English text (numbers in it become {{0}}, {{1}}…): one catalog for every message, no key to
 * invent at each of hundreds of throw sites.
 */
export function loadMessageCatalog(language: Exclude<Language, 'en'>): Record<string, string> {
  return ({ cy: cyMessages } as Record<typeof language, Record<string, string>>)[language];
}

const i18n = i18next.createInstance();
void i18n.init({
  resources: Object.fromEntries(
    LANGUAGES.map((l) => [l, { translation: loadCatalog(l), messages: l === 'en' ? {} : loadMessageCatalog(l) }]),
  ),
  ns: ['translation', 'messages'],
  defaultNS: 'translation',
  lng: 'en',
  fallbackLng: 'en',
  supportedLngs: [...LANGUAGES],
  initAsync: false,
  // hono/jsx escapes every interpolated value in pages; emails are plain text.
  interpolation: { escapeValue: false },
  returnNull: false,
});

export type LanguageSource = 'chosen' | 'browser' | 'default';

/**
 * The language being written in now, set by {@link withLanguage} around synchronous work (a page's
 * render, an email's composition). It is not carried across awaits: Node 20's AsyncLocalStorage
 * put a promise hook on every promise in the process, which cost signing about a tenth of its
 * rate (docs/performance.md), so a request's language travels explicitly (request.language, a
 * service's `language` argument) and is made current only while something is produced in it.
 */
let scope: Language | null = null;

/**
 * Under the test runner, reading the language outside any scope is a mistake in the code (it would
 * silently be English for a Welsh reader), so it throws there; elsewhere it falls back to English.
 */
const STRICT = process.env.NODE_TEST_CONTEXT !== undefined || process.env.UNDERSIGN_STRICT_LANGUAGE === '1';

/** The first of the given values that is a language (a job's payload, an account's), else English. */
export function languageOf(...candidates: unknown[]): Language {
  return (candidates.find(isLanguage) as Language | undefined) ?? 'en';
}

/** The language of the page, email or message being produced now (see {@link withLanguage}). */
export function currentLanguage(): Language {
  if (scope) return scope;
  if (STRICT) throw new Error('The current language was read outside withLanguage(): pass the language explicitly or produce the text inside withLanguage');
  return 'en';
}

/**
 * Runs `fn` with everything it produces (text, dates, numbers) in `language`. `fn` must be
 * synchronous: the language is current only until it returns.
 */
export function withLanguage<T>(language: Language, fn: () => T): T {
  const previous = scope;
  scope = language;
  try {
    const result = fn();
    if (result instanceof Promise) throw new Error('withLanguage() takes synchronous work only: the language would not follow an await');
    return result;
  } finally {
    scope = previous;
  }
}

/**
 * A link for an email in the current language: Welsh links carry "lang=cy" so the page opens in
 * the email's language (and remembers it); English links stay as they are.
 */
export function localisedUrl(url: string, language: Language = currentLanguage()): string {
  if (language === 'en') return url;
  return `${url}${url.includes('?') ? '&' : '?'}lang=${language}`;
}

/** The `lang` attribute of a page in the current language. */
export function htmlLang(): string {
  return currentLanguage() === 'cy' ? 'cy' : 'en-GB';
}

/** The locale of the current language, for Intl formatters. */
export function currentLocale(): string {
  return LOCALES[currentLanguage()];
}

/** Texts without values, per language: pages ask for the same few hundred on every render. */
const plainTexts: Record<Language, Map<string, string>> = { en: new Map(), cy: new Map() };
/**
 * Texts with values (counts, names, dates), per language, by key and values: a list of petitions
 * asks for "N signatures" and the like twenty times a render, i18next's own resolution a sixth of
 * a search's CPU. The catalogs never change while the process runs, so a text is a function of
 * its key and values; emptied when full, as counts keep changing.
 */
const textsWithValues: Record<Language, Map<string, string>> = { en: new Map(), cy: new Map() };
const TEXTS_WITH_VALUES_KEPT = 10_000;

/** Translates a catalog key into the current language (plurals by `count`, values by name). */
export function t(key: string, options?: TOptions): string {
  const language = currentLanguage();
  if (options === undefined) {
    const known = plainTexts[language].get(key);
    if (known !== undefined) return known;
    const text = i18n.t(key, { lng: language }) as string;
    plainTexts[language].set(key, text);
    return text;
  }
  const cacheKey = keyWithValues(key, options);
  if (cacheKey === null) return i18n.t(key, { ...options, lng: language }) as string;
  const kept = textsWithValues[language];
  const known = kept.get(cacheKey);
  if (known !== undefined) return known;
  const text = i18n.t(key, { ...options, lng: language }) as string;
  if (kept.size >= TEXTS_WITH_VALUES_KEPT) kept.clear();
  kept.set(cacheKey, text);
  return text;
}

/** The key and its values as one string, or null when a value is not a string, number or boolean (not kept). */
function keyWithValues(key: string, options: TOptions): string | null {
  let cacheKey = key;
  for (const name in options) {
    const value = (options as Record<string, unknown>)[name];
    const type = typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') return null;
    // A separator no catalog key, value name or value holds (text is refused with NUL at the door).
    cacheKey += `\u0000${name}\u0000${type === 'string' ? 's' : type === 'number' ? 'n' : 'b'}${String(value)}`;
  }
  return cacheKey;
}


const NUMBER = /\d[\d,.]*\d|\d/g;

/** The English template of a message: its numbers replaced by {{0}}, {{1}}… */
export function messageTemplate(message: string): { template: string; values: Record<string, string> } {
  const values: Record<string, string> = {};
  let i = 0;
  const template = message.replace(NUMBER, (n) => {
    values[String(i)] = n;
    return `{{${i++}}}`;
  });
  return { template, values };
}

/** An error message, written in English, in the current language (English when no translation exists). */
export function translateMessage(message: string): string {
  const language = currentLanguage();
  if (language === 'en') return message;
  const options = { ns: 'messages', lng: language, keySeparator: false as const, nsSeparator: false as const, fallbackLng: false as const };
  if (i18n.exists(message, options)) return i18n.t(message, options) as string;
  const { template, values } = messageTemplate(message);
  if (i18n.exists(template, options)) return i18n.t(template, { ...options, ...values }) as string;
  const aboutField = /^([\w.]+): (.+)$/.exec(message);
  if (aboutField) {
    const translated = translateMessage(aboutField[2]!);
    if (translated !== aboutField[2]) return `${aboutField[1]}: ${translated}`;
  }
  return message;
}


/**
 * The best language for an Accept-Language header: region subtags are ignored
 * ("cy-GB" → Welsh, "en-US" → English); null when the reader accepts neither.
 */
export function languageFromAcceptLanguage(header: string | undefined): Language | null {
  if (!header) return null;
  const primary = header.replace(/([a-zA-Z]{1,8})(-[a-zA-Z0-9]{1,8})+/g, '$1').toLowerCase();
  const found = negotiate(primary, [...LANGUAGES]);
  return isLanguage(found) ? found : null;
}

/** A request's language and where it came from (set by the language plugin, see language.plugin.ts). */
export interface RequestLanguage {
  language: Language;
  languageSource: LanguageSource;
}
