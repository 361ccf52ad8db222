import { Marked, type Tokens } from 'marked';
import xssModule from 'xss';

// xss is CommonJS: its named exports live on the default export at run time.
const { FilterXSS, safeAttrValue } = xssModule as unknown as typeof import('xss');

const SAFE_URL = /^(https?:|mailto:)/i;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Markdown for updates written by campaigners. Raw HTML is shown as text, links may only be
 * http(s) or mailto and carry rel="nofollow ugc noopener", images become plain links. The result
 * then passes an allow-list sanitiser as a second line of defence.
 */
const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(token.text);
    },
    link(token: Tokens.Link) {
      const text = this.parser.parseInline(token.tokens);
      if (!SAFE_URL.test(token.href.trim())) return text;
      const title = token.title ? ` title="${escapeHtml(token.title)}"` : '';
      return `<a href="${escapeHtml(token.href.trim())}"${title} rel="nofollow ugc noopener">${text}</a>`;
    },
    image(token: Tokens.Image) {
      if (!SAFE_URL.test(token.href.trim())) return escapeHtml(token.text);
      return `<a href="${escapeHtml(token.href.trim())}" rel="nofollow ugc noopener">${escapeHtml(token.text || token.href)}</a>`;
    },
  },
});

const sanitiser = new FilterXSS({
  whiteList: {
    p: [],
    br: [],
    strong: [],
    em: [],
    del: [],
    code: [],
    pre: [],
    blockquote: [],
    ul: [],
    ol: ['start'],
    li: [],
    h1: [],
    h2: [],
    h3: [],
    h4: [],
    h5: [],
    h6: [],
    hr: [],
    a: ['href', 'title', 'rel'],
    table: [],
    thead: [],
    tbody: [],
    tr: [],
    th: [],
    td: [],
  },
  stripIgnoreTag: true,
  stripIgnoreTagBody: ['script', 'style'],
  safeAttrValue: (tag, name, value, cssFilter) => {
    if (tag === 'a' && name === 'href' && !SAFE_URL.test(value)) return '';
    return safeAttrValue(tag, name, value, cssFilter);
  },
});

/**
 * Updates rendered lately, by their text: an update is read by many (its page, the petition's
 * page and feed, the email to every signer) and changes seldom, and rendering and sanitising a
 * long one takes a millisecond or more. At most RENDERED_KEPT, the oldest read going first.
 */
const rendered = new Map<string, string>();
const RENDERED_KEPT = 200;

/** Renders campaigner-written Markdown to HTML that is safe to put in a page or an email. */
export function renderMarkdown(markdown: string): string {
  const kept = rendered.get(markdown);
  if (kept !== undefined) {
    // Read again: to the back of the line.
    rendered.delete(markdown);
    rendered.set(markdown, kept);
    return kept;
  }
  const html = sanitiser.process(marked.parse(markdown) as string);
  if (rendered.size >= RENDERED_KEPT) rendered.delete(rendered.keys().next().value!);
  rendered.set(markdown, html);
  return html;
}

/** Markdown as plain text for emails and feeds' summaries: the source, which reads well as it is. */
export function markdownExcerpt(markdown: string, max = 280): string {
  const plain = markdown.replace(/\s+/g, ' ').trim();
  return plain.length <= max ? plain : `${plain.slice(0, max - 1)}…`;
}
