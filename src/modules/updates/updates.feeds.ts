import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { renderMarkdown } from '../../lib/markdown.ts';

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

  app.get('/petitions/:slug/feed.atom', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const { petition, updates: list } = await updates.list(slug, null);
    const url = petitions.urlFor(petition);
    const body = atomFeed({
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
    return reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(body);
  });

  app.get('/feed.atom', async (_request, reply) => {
    const list = await updates.recentPublic(50);
    const body = atomFeed({
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
    return reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(body);
  });
}
