import { currentLanguage, languageSource, LANGUAGES, type LanguageSource } from '../i18n/i18n.ts';
/**
 * Rendered public pages kept for a moment, so a petition going viral costs one render per
 * interval rather than one per visitor. Each process keeps its own; entries are at most
 * `ttlMs` old, so what visitors see (the count included) is never staler than that.
 */
export class PublicPageCache {
  private readonly pages = new Map<string, { html: string; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => Date.now(),
    private readonly maxEntries = 1000,
  ) {}

  get(key: string): string | null {
    if (this.ttlMs <= 0) return null;
    const hit = this.pages.get(key);
    if (!hit) return null;
    if (this.now() - hit.at > this.ttlMs) {
      this.pages.delete(key);
      return null;
    }
    return hit.html;
  }

  set(key: string, html: string): void {
    if (this.ttlMs <= 0) return;
    if (this.pages.size >= this.maxEntries) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(key, { html, at: this.now() });
  }

  /** Forgets one page (after a change the public should see at once) or all of them. */
  forget(key?: string): void {
    if (key === undefined) this.pages.clear();
    else this.pages.delete(key);
  }
}

const SOURCE_MARK: Record<LanguageSource, string> = { chosen: '', browser: '~', default: '*' };

/**
 * The cache key of a page in the visitor's language. How the language was picked is part of the
 * key: a petition page may open in the petition's own language unless the visitor chose one.
 */
export function localisedPageKey(name: string): string {
  return `${name}:${currentLanguage()}${SOURCE_MARK[languageSource()]}`;
}

/** Every key {@link localisedPageKey} can give for a page, to forget them all after a change. */
export function allLocalisedPageKeys(name: string): string[] {
  return LANGUAGES.flatMap((language) => Object.values(SOURCE_MARK).map((mark) => `${name}:${language}${mark}`));
}
