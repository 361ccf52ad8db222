import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMarkdown } from './markdown.ts';

describe('renderMarkdown', () => {
  it('renders ordinary Markdown', () => {
    const html = renderMarkdown('## Jailed for 16 years\n\nA **trafficker** was *jailed*.\n\n- one\n- two\n\n[Read more](https://example.org/news)');
    assert.match(html, /<h2>Jailed for 16 years<\/h2>/);
    assert.match(html, /<strong>trafficker<\/strong>/);
    assert.match(html, /<li>one<\/li>/);
    assert.match(html, /<a href="https:\/\/example.org\/news" rel="nofollow ugc noopener">Read more<\/a>/);
  });

  it('renders hostile input inert', () => {
    const payloads = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[click](javascript:alert(1))',
      '[click](JaVaScRiPt:alert(1))',
      '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '![x](javascript:alert(1))',
      '<a href="javascript:alert(1)">x</a>',
      '<iframe src="https://evil.example"></iframe>',
      '<svg onload=alert(1)>',
      '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
      '<div style="background:url(javascript:alert(1))">x</div>',
      '`<script>`',
    ];
    for (const payload of payloads) {
      const html = renderMarkdown(payload);
      // Text may mention anything once escaped; what must never appear is a live tag or attribute.
      assert.doesNotMatch(html, /<(script|img|iframe|svg|div|style)/i, `${payload} → ${html}`);
      const withoutValues = html.replace(/"[^"]*"/g, '""');
      assert.doesNotMatch(withoutValues, /<[^>]+\s(on\w+|style)\s*=/i, `${payload} → ${html}`);
      assert.doesNotMatch(html, /href\s*=\s*"?\s*(javascript|data|vbscript):/i, `${payload} → ${html}`);
    }
  });
});
