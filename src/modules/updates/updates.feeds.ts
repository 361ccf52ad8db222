import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.ts';
import { renderMarkdown } from '../../lib/markdown.ts';
import { sendSharedDocument } from '../../views/pages.tsx';

function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

interface FeedEntry {
  id: string;
  title: string;
  url: string;
  updated: string;
  published: string;
  author: string | null;
  html: string;
}

/** An Atom 1.0 document (RFC 4287). */
export function atomFeed(feed: { id: string; title: string; url: string; selfUrl: string; updated: string; entries: FeedEntry[] }): string {
  const entries = feed.entries
    .map(
      (e) => `  <entry>
    <id>${xml(e.id)}</id>
    <title>${xml(e.title)}</title>
    <link rel="alternate" type="text/html" href="${xml(e.url)}"/>
    <published>${xml(e.published)}</published>
    <updated>${xml(e.updated)}</updated>
    <author><name>${xml(e.author ?? 'The campaign team')}</name></author>
    <content type="html">${xml(e.html)}</content>
  </entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${xml(feed.id)}</id>
  <title>${xml(feed.title)}</title>
  <link rel="alternate" type="text/html" href="${xml(feed.url)}"/>
  <link rel="self" type="application/atom+xml" href="${xml(feed.selfUrl)}"/>
  <updated>${xml(feed.updated)}</updated>
${entries}
</feed>
`;
}

/** Atom feeds of updates: one per petition, and one for the whole site. */
export function registerUpdateFeeds(app: FastifyInstance, ctx: AppContext): void {
  const { updates, petitions } = ctx.services;
  const base = ctx.config.baseUrl;

  // Feed readers ask again and again, alike: each feed is written (its reads, every update's
  // Markdown) once a moment, like a public page, and sent compressed to readers that take it.
  // Kept under its address, so a change to a petition made here drops it at once (see app.ts).
  const sendFeed = (reply: FastifyReply, address: string, write: () => Promise<string>) =>
    sendSharedDocument(ctx, reply.header('cache-control', 'public, max-age=300'), address, 'application/atom+xml; charset=utf-8', write);

  app.get('/petitions/:slug/feed.atom', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    return sendFeed(reply, `/petitions/${encodeURIComponent(slug)}/feed.atom`, async () => {
      const { petition, updates: list } = await updates.list(slug, null);
      const url = petitions.urlFor(petition);
      return atomFeed({
        id: `${url}/feed.atom`,
        title: `Updates: ${petition.title}`,
        url,
        selfUrl: `${url}/feed.atom`,
        updated: list[0]?.updatedAt ?? petition.updatedAt,
        entries: list.map((u) => ({
          id: `${url}/updates/${u.id}`,
          title: u.title,
          url: `${url}/updates/${u.id}`,
          updated: u.updatedAt,
          published: u.createdAt,
          author: u.authorName,
          html: renderMarkdown(u.body),
        })),
      });
    });
  });

  app.get('/feed.atom', async (_request, reply) =>
    sendFeed(reply, '/feed.atom', async () => {
      const list = await updates.recentPublic(50);
      return atomFeed({
        id: `${base}/feed.atom`,
        title: `${ctx.config.siteName}: petition updates`,
        url: `${base}/`,
        selfUrl: `${base}/feed.atom`,
        updated: list[0]?.updatedAt ?? new Date(0).toISOString(),
        entries: list.map((u) => {
          const url = `${base}/petitions/${encodeURIComponent(u.petitionSlug)}/updates/${u.id}`;
          return {
            id: url,
            title: `${u.title} — ${u.petitionTitle}`,
            url,
            updated: u.updatedAt,
            published: u.createdAt,
            author: u.authorName,
            html: renderMarkdown(u.body),
          };
        }),
      });
    }),
  );
}
