import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DevMail {
  id: string;
  date: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  raw: string;
}

/**
 * Outside production, mail is kept as files in `<data>/dev-mail` instead of being sent,
 * so a campaigner trying Undersign on a laptop can read confirmation emails at /_dev/mail.
 */
export class DevOutbox {
  // Orders mails written in the same millisecond by this process.
  private sequence = 0;

  constructor(readonly dir: string) {}

  async store(mail: Omit<DevMail, 'id' | 'date'>): Promise<DevMail> {
    await mkdir(this.dir, { recursive: true });
    const date = new Date().toISOString();
    const sequence = (this.sequence++ % 1_000_000).toString().padStart(6, '0');
    const id = `${date.replace(/[-:.TZ]/g, '')}-${sequence}-${randomBytes(4).toString('hex')}`;
    const stored: DevMail = { id, date, ...mail };
    await writeFile(join(this.dir, `${id}.json`), JSON.stringify(stored));
    return stored;
  }

  /** Newest first. */
  async list(limit = 100): Promise<DevMail[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort().reverse().slice(0, limit);
    const mails = await Promise.all(ids.map((id) => this.get(id)));
    return mails.filter((m): m is DevMail => m !== null);
  }

  async get(id: string): Promise<DevMail | null> {
    if (!/^[0-9a-f-]+$/.test(id)) return null;
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as DevMail;
    } catch {
      return null;
    }
  }
}
