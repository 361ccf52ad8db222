import type { Child, FC } from 'hono/jsx';
import type { User } from '../modules/users/users.service.ts';
import { currentLanguage, htmlLang, LANGUAGE_NAMES, LANGUAGES, t, type Language } from '../i18n/i18n.ts';

/** What every page needs to know about the request it answers. */
export interface PageContext {
  siteName: string;
  user: User | null;
  /** CSRF token for forms on the page (the sign-out button in the header needs one). */
  csrfToken: string;
  devMail: boolean;
  /** The address of this page (path and query), for the language switch. */
  path: string;
}

/** This page's address in another language: the switch sets the visitor's choice. */
export function addressIn(path: string, language: Language): string {
  const url = new URL(path, 'http://localhost');
  url.searchParams.set('lang', language);
  return `${url.pathname}${url.search}`;
}

/** Links to the page in the languages it is not in, each labelled in its own language. */
const LanguageSwitch: FC<{ path: string }> = ({ path }) => {
  const current = currentLanguage();
  return (
    <nav class="language-switch" aria-label={t('layout.language')}>
      <ul class="nav">
        {LANGUAGES.filter((l) => l !== current).map((l) => (
          <li>
            <a href={addressIn(path, l)} lang={l} hreflang={l}>
              {LANGUAGE_NAMES[l]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
};

export interface LayoutProps {
  ctx: PageContext;
  title: string;
  description?: string;
  /** Open Graph and canonical address for shareable pages. */
  canonicalUrl?: string;
  /** Absolute address of the share image (Open Graph and Twitter cards). */
  imageUrl?: string;
  /** Progressive enhancements: the page works without them. */
  scripts?: string[] | undefined;
  children?: Child;
}

export const Layout: FC<LayoutProps> = ({ ctx, title, description, canonicalUrl, imageUrl, scripts, children }) => (
  <html lang={htmlLang()}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title === ctx.siteName ? title : `${title} – ${ctx.siteName}`}</title>
      {description ? <meta name="description" content={description} /> : null}
      {canonicalUrl ? <link rel="canonical" href={canonicalUrl} /> : null}
      {canonicalUrl ? <meta property="og:url" content={canonicalUrl} /> : null}
      {LANGUAGES.map((l) => (
        <link rel="alternate" hreflang={l} href={addressIn(ctx.path, l)} />
      ))}
      <meta property="og:title" content={title} />
      {description ? <meta property="og:description" content={description} /> : null}
      <meta property="og:site_name" content={ctx.siteName} />
      <meta property="og:type" content={canonicalUrl ? 'article' : 'website'} />
      {imageUrl ? <meta property="og:image" content={imageUrl} /> : null}
      {imageUrl ? <meta property="og:image:width" content="1200" /> : null}
      {imageUrl ? <meta property="og:image:height" content="630" /> : null}
      <meta name="twitter:card" content={imageUrl ? 'summary_large_image' : 'summary'} />
      <meta name="twitter:title" content={title} />
      {description ? <meta name="twitter:description" content={description} /> : null}
      {imageUrl ? <meta name="twitter:image" content={imageUrl} /> : null}
      <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
      <link rel="stylesheet" href="/static/styles.css" />
      {scripts?.map((src) => <script src={src} defer></script>)}
    </head>
    <body>
      <a class="skip-link" href="#main">
        {t('layout.skip_link')}
      </a>
      <header class="site-header">
        <div class="container header-inner">
          <a class="brand" href="/">
            {ctx.siteName}
          </a>
          <LanguageSwitch path={ctx.path} />
          <nav aria-label={t('layout.main_navigation')}>
            <ul class="nav">
              <li>
                <a href="/petitions">{t('layout.petitions')}</a>
              </li>
              <li>
                <a href="/petitions/new">{t('layout.start_petition')}</a>
              </li>
              {ctx.user && (ctx.user.role === 'admin' || ctx.user.role === 'moderator') ? (
                <li>
                  <a href="/admin">{t('layout.moderation')}</a>
                </li>
              ) : null}
              {ctx.user ? (
                <>
                  <li>
                    <a href="/account">{t('layout.my_petitions')}</a>
                  </li>
                  <li>
                    <form method="post" action="/logout" class="inline-form">
                      <input type="hidden" name="_csrf" value={ctx.csrfToken} />
                      <button type="submit" class="link-button">
                        {t('layout.sign_out')}
                      </button>
                    </form>
                  </li>
                </>
              ) : (
                <li>
                  <a href="/login">{t('layout.sign_in')}</a>
                </li>
              )}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" class="container" tabindex={-1}>
        {children}
      </main>
      <footer class="site-footer">
        <div class="container">
          <p>
            {t('layout.footer', { site: ctx.siteName })} <a href="/privacy">{t('layout.privacy')}</a>.
            {ctx.devMail ? (
              <>
                {' '}
                {t('layout.dev_mail')} <a href="/_dev/mail">{t('layout.dev_outbox')}</a>.
              </>
            ) : null}
          </p>
        </div>
      </footer>
    </body>
  </html>
);
