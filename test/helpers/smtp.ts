import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on 127.0.0.1 that keeps every message it receives, parsed. */
export class TestSmtpServer {
  readonly messages: ParsedMail[] = [];
  /** How many of the next messages to refuse with a temporary failure (451), as a busy server does. */
  failNext = 0;
  /** Milliseconds to take over each message, like a slow server. */
  delayMs = 0;
  /** Recipients refused for good (550), naming the address as real servers do. */
  readonly rejected = new Set<string>();
  private server: SMTPServer;
  private waiters: (() => void)[] = [];

  constructor(readonly credentials = { user: 'undersign', pass: 'smtp-secret' }) {
    this.server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (auth.username === credentials.user && auth.password === credentials.pass) callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onRcptTo: (address, _session, callback) => {
        if (this.rejected.has(address.address.toLowerCase())) {
          callback(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
          return;
        }
        callback();
      },
      onData: (stream, _session, callback) => {
        if (this.failNext > 0) {
          this.failNext--;
          stream.resume();
          stream.on('end', () => callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 })));
          return;
        }
        simpleParser(stream)
          .then(async (mail) => {
            if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
            this.messages.push(mail);
            for (const wake of this.waiters.splice(0)) wake();
            callback();
          })
          .catch(callback);
      },
    });
  }

  async start(): Promise<string> {
    // A client that vanished mid-conversation (a killed worker) is not the server's failure.
    this.server.on('error', () => {});
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://${this.credentials.user}:${this.credentials.pass}@127.0.0.1:${port}`;
  }

  /** Waits until a message matching `match` arrives (or fails after `timeoutMs`). */
  async waitFor(match: (mail: ParsedMail) => boolean, timeoutMs = 10_000): Promise<ParsedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching email within ${timeoutMs} ms (${this.messages.length} received)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  to(address: string): ParsedMail[] {
    return this.messages.filter((m) => addresses(m).includes(address.toLowerCase()));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function addresses(mail: ParsedMail): string[] {
  const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
  return to.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
}
