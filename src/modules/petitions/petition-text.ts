import { currentLanguage, isLanguage, type Language, type RequestLanguage } from '../../i18n/i18n.ts';

/** A petition's words in one language. */
export interface PetitionText {
  language: Language;
  title: string;
  action: string;
  background: string;
}

/** What a petition needs for {@link petitionText}: its own text, its language and an optional translation. */
export interface Bilingual {
  title: string;
  action: string;
  background: string;
  language: Language;
  translation: PetitionText | null;
}

/** The petition's words in the reader's language when it has them, else in its own language. */
export function petitionText(petition: Bilingual, language: Language = currentLanguage()): PetitionText {
  if (petition.translation && petition.translation.language === language && petition.language !== language) return petition.translation;
  return { language: petition.language, title: petition.title, action: petition.action, background: petition.background };
}

/** Reads the stored translation column (JSON), ignoring anything malformed. */
export function parseTranslation(json: string | null): PetitionText | null {
  if (!json) return null;
  try {
    const value = JSON.parse(json) as Partial<PetitionText>;
    if (!isLanguage(value.language) || typeof value.title !== 'string' || typeof value.action !== 'string' || typeof value.background !== 'string') return null;
    return { language: value.language, title: value.title, action: value.action, background: value.background };
  } catch {
    return null;
  }
}

/** The other of the two languages. */
export function otherLanguage(language: Language): Language {
  return language === 'cy' ? 'en' : 'cy';
}

/**
 * Shows a petition's pages in a language its text is written in, unless the visitor chose one:
 * with no preference a petition opens in its own language; a browser's language is followed when
 * the petition has its text in it (a Welsh-only petition opens in Welsh for an English browser).
 */
export function openInPetitionLanguage(request: RequestLanguage, petition: Bilingual): void {
  const { language, languageSource: source } = request;
  if (source === 'chosen') return;
  if (source === 'browser' && (language === petition.language || petition.translation?.language === language)) return;
  // For the rest of the request: its page and Content-Language follow.
  request.language = petition.language;
}

/** A rejection reason's wording in a language, or in English where the site has none in it (`labelLanguage` says which). */
export function rejectionLabel(rejection: { labels: { en: string; cy: string | null } }, language: Language = currentLanguage()): { label: string; labelLanguage: Language } {
  if (language === 'cy' && rejection.labels.cy) return { label: rejection.labels.cy, labelLanguage: 'cy' };
  return { label: rejection.labels.en, labelLanguage: 'en' };
}
