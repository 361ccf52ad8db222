import { inRequestLanguage } from '../../i18n/language.plugin.ts';
import { htmlLang, localisedUrl, t } from '../../i18n/i18n.ts';
import { openInPetitionLanguage, petitionText } from '../petitions/petition-text.ts';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { formatNumber, SignatureProgress } from '../../views/components.tsx';
import { sendSharedPage } from '../../views/pages.tsx';
import { RecentResults } from '../../lib/recent-results.ts';
import { nextGoal } from '../milestones/milestones.ts';
import { ImageThread } from './image-thread.ts';
import type { Petition } from '../petitions/petitions.service.ts';

function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Splits a title into at most `maxLines` lines of about `width` characters, with an ellipsis if cut. */
export function wrapText(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1]!.replace(/\s*\S*$/, '')}…`;
    return kept;
  }
  return lines;
}

/** The share card (1200×630 SVG) shown by social networks: the title and the live count. */
export function shareCardSvg(petition: Petition, siteName: string): string {
  const { title } = petitionText(petition);
  const lines = wrapText(title, 30, 4);
  const count = `${formatNumber(petition.signatureCount)} ${t('progress.signature_word', { count: petition.signatureCount })}`;
  const titleLines = lines
    .map((l, i) => `<text x="80" y="${200 + i * 78}" font-size="64" font-weight="700" fill="#1d1d1f">${xml(l)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630" role="img" aria-label="${xml(`${title}: ${count}`)}">
<rect width="1200" height="630" fill="#ffffff"/>
<rect width="1200" height="96" fill="#8a1538"/>
<text x="80" y="62" font-family="DejaVu Sans, Arial, sans-serif" font-size="36" font-weight="700" fill="#ffffff">${xml(siteName)}</text>
<g font-family="DejaVu Sans, Arial, sans-serif">${titleLines}
<text x="80" y="${230 + lines.length * 78}" font-size="30" fill="#505a5f">${xml(t('petition.petition_to', { target: petition.target.name }))}</text>
<rect x="80" y="500" width="1040" height="84" rx="12" fill="#00703c"/>
<text x="120" y="556" font-size="40" font-weight="700" fill="#ffffff">${xml(count)}${petition.state === 'open' ? ` · ${xml(t('share.sign_now'))}` : ''}</text></g>
</svg>`;
}

/** Share card, QR codes for flyers, and the embeddable widget. */
export function registerSharingRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { petitions } = ctx.services;
  const publicPetition = (slug: string) => petitions.recentPublic(slug);

  app.get('/petitions/:slug/card.svg', async (request, reply) => {
    const petition = await publicPetition((request.params as { slug: string }).slug);
    openInPetitionLanguage(request, petition);
    return reply
      .type('image/svg+xml; charset=utf-8')
      .header('cache-control', `public, max-age=${CARD_MAX_AGE_SECONDS}`)
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(inRequestLanguage(request, () => shareCardSvg(petition, ctx.config.siteName)));
  });

  // The same card as a PNG, for the link previews of networks that show no SVG (the page's
  // og:image), and the QR codes for flyers: drawn on a thread (tens of milliseconds each), each
  // kept as long as browsers and crawlers are told to keep it.
  const images = new ImageThread();
  app.addHook('onClose', () => images.close());
  const now = () => ctx.clock().getTime();
  const pngCards = new RecentResults<Buffer>(CARD_MAX_AGE_SECONDS * 1000, now, 100);
  app.get('/petitions/:slug/card.png', async (request, reply) => {
    const petition = await publicPetition((request.params as { slug: string }).slug);
    openInPetitionLanguage(request, petition);
    const png = await pngCards.get(`${petition.id}:${request.language}`, () => images.cardPng(inRequestLanguage(request, () => shareCardSvg(petition, ctx.config.siteName))));
    return reply.type('image/png').header('cache-control', `public, max-age=${CARD_MAX_AGE_SECONDS}`).send(png);
  });

  // A petition's address never changes, nor its QR code: each is drawn once in a while, not for every flyer printed.
  const qrSvgs = new RecentResults<string>(QR_MAX_AGE_SECONDS * 1000, now, 200);
  const qrPngs = new RecentResults<Buffer>(QR_MAX_AGE_SECONDS * 1000, now, 100);
  app.get('/petitions/:slug/qr.svg', async (request, reply) => {
    const petition = await publicPetition((request.params as { slug: string }).slug);
    const url = petitions.urlFor(petition);
    const svg = await qrSvgs.get(url, async () => (await loadQrCode()).toString(url, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }));
    return reply.type('image/svg+xml; charset=utf-8').header('cache-control', `public, max-age=${QR_MAX_AGE_SECONDS}`).header('content-security-policy', "default-src 'none'").send(svg);
  });

  app.get('/petitions/:slug/qr.png', async (request, reply) => {
    const petition = await publicPetition((request.params as { slug: string }).slug);
    const url = petitions.urlFor(petition);
    const png = await qrPngs.get(url, () => images.qrPng(url));
    return reply
      .type('image/png')
      .header('cache-control', `public, max-age=${QR_MAX_AGE_SECONDS}`)
      .header('content-disposition', `inline; filename="${petition.slug}-qr.png"`)
      .send(png);
  });

  // The widget other sites put in an iframe: the count and a button that opens the petition.
  app.get('/petitions/:slug/embed', async (request, reply) => {
    const petition = await publicPetition((request.params as { slug: string }).slug);
    openInPetitionLanguage(request, petition);
    const { title } = petitionText(petition, request.language);
    const url = localisedUrl(petitions.urlFor(petition), request.language);
    const goal = petition.goal && petition.signatureCount >= petition.goal ? nextGoal(petition.signatureCount) : petition.goal;
    reply.removeHeader('x-frame-options');
    reply
      .header('content-security-policy', "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'")
      .header('cache-control', 'public, max-age=60');
    const page = () => (
      <html lang={htmlLang()}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{title}</title>
          <link rel="stylesheet" href="/static/styles.css" />
        </head>
        <body class="embed">
          <p class="petition-kicker">{t('petition.petition_to', { target: petition.target.name })}</p>
          <p class="embed-title">
            <a href={url} target="_blank" rel="noopener">
              {title}
            </a>
          </p>
          <SignatureProgress count={petition.signatureCount} goal={goal} />
          {petitions.acceptsSignatures(petition) ? (
            <p>
              <a class="button button-primary" href={`${url}#sign-title`} target="_blank" rel="noopener">
                {t('sign.sign_button')}
                <span class="visually-hidden"> {t('share.new_tab')}</span>
              </a>
            </p>
          ) : (
            <p>{t('petition.banner.closed')}</p>
          )}
          <p class="meta">{ctx.config.siteName}</p>
        </body>
      </html>
    );
    // An article read by many carries the widget to each reader: it holds no form and no one's
    // token, so it is rendered once a moment per petition and language, like the petition page.
    return sendSharedPage(ctx, request, reply, `/petitions/${encodeURIComponent(petition.slug)}/embed`, () => page);
  });
}

/** How long browsers, crawlers and this process keep a share card (its count moves meanwhile). */
const CARD_MAX_AGE_SECONDS = 300;
/** How long a QR code is kept (a petition's address does not change). */
const QR_MAX_AGE_SECONDS = 86_400;

/** The QR code library, loaded on the first code asked for rather than in every process. */
const loadQrCode = async () => (await import('qrcode')).default;
