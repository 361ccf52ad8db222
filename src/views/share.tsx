import type { FC } from 'hono/jsx';
import { t } from '../i18n/i18n.ts';

/** Plain share links (no third-party scripts): they work without JavaScript and leak nothing on load. */
export const ShareLinks: FC<{ url: string; title: string }> = ({ url, title }) => {
  const text = t('share.please_sign', { title });
  const e = encodeURIComponent;
  const links = [
    { name: t('share.email'), href: `mailto:?subject=${e(title)}&body=${e(`${text}\n\n${url}`)}` },
    { name: 'WhatsApp', href: `https://wa.me/?text=${e(`${text} ${url}`)}` },
    { name: 'Facebook', href: `https://www.facebook.com/sharer/sharer.php?u=${e(url)}` },
    { name: 'X (Twitter)', href: `https://twitter.com/intent/tweet?text=${e(text)}&url=${e(url)}` },
    { name: 'Bluesky', href: `https://bsky.app/intent/compose?text=${e(`${text} ${url}`)}` },
  ];
  return (
    <section class="share" aria-labelledby="share-title">
      <h2 id="share-title">{t('share.heading')}</h2>
      <ul class="share-links">
        {links.map((l) => (
          <li>
            <a href={l.href} rel="noopener noreferrer" target="_blank">
              {l.name}
              <span class="visually-hidden"> {t('share.new_tab')}</span>
            </a>
          </li>
        ))}
      </ul>
      <label for="share-url">{t('share.copy_link')}</label>
      <input id="share-url" type="text" readonly value={url} />
      <h3>{t('share.flyers')}</h3>
      <ul class="share-links">
        <li>
          <a href={`${url}/qr.svg`}>{t('share.qr_svg')}</a>
        </li>
        <li>
          <a href={`${url}/qr.png`}>{t('share.qr_png')}</a>
        </li>
      </ul>
      <label for="embed-code">{t('share.embed')}</label>
      <textarea id="embed-code" readonly rows={3}>{`<iframe src="${url}/embed" title="${title.replace(/"/g, '&quot;')}" width="320" height="260" style="border:0"></iframe>`}</textarea>
    </section>
  );
};
