import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A browser-like session over `app.inject()`: keeps cookies between requests and sends the
 * CSRF token of the last page it loaded with every form post.
 */
export class FormSession {
  private cookies = new Map<string, string>();
  private csrfToken = '';

  constructor(private readonly app: FastifyInstance) {}

  async get(url: string): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'GET', url, headers: this.cookieHeader() });
    this.remember(res);
    return res;
  }

  /** Posts a form as a browser would; loads `pageUrl` first when no page was loaded yet. */
  async post(url: string, fields: Record<string, string>, options: { csrf?: boolean } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(fields);
    if (options.csrf !== false) body.set('_csrf', this.csrfToken);
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { ...this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: body.toString(),
    });
    this.remember(res);
    return res;
  }

  /** Posts a multipart form with one file, as a browser does for a form with a file input. */
  async postMultipart(
    url: string,
    fields: Record<string, string>,
    file: { name: string; filename: string; type: string; bytes: Buffer },
  ): Promise<LightMyRequestResponse> {
    const boundary = `----undersign${Date.now()}`;
    const parts: Buffer[] = [];
    for (const [key, value] of Object.entries({ _csrf: this.csrfToken, ...fields })) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`));
    }
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: ${file.type}\r\n\r\n`));
    parts.push(file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`));
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { ...this.cookieHeader(), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: Buffer.concat(parts),
    });
    this.remember(res);
    return res;
  }

  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  private remember(res: LightMyRequestResponse): void {
    for (const c of res.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      const expired = (c.expires && c.expires.getTime() < Date.now()) || c.maxAge === 0 || c.value === '';
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (token) this.csrfToken = token[1]!;
  }
}

/** The text content of an HTML page, tags stripped, whitespace folded: for readable assertions. */
export function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A browser session signed in as `email` (password from the factories by default). */
export async function signedInSession(app: FastifyInstance, email: string, password = 'correct horse battery staple'): Promise<FormSession> {
  const session = new FormSession(app);
  await session.get('/login');
  const res = await session.post('/login', { email, password });
  if (res.statusCode !== 303) throw new Error(`sign-in as ${email} failed: ${res.statusCode}`);
  await session.get('/account');
  return session;
}
