import nodemailer, { type Transporter } from 'nodemailer';
import { DevOutbox } from './dev-outbox.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
}

/** Sends email. Real SMTP in production; the dev outbox (a folder, viewable at /_dev/mail) otherwise. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  from: string;
  /** smtp://user:pass@host:port, or null for the dev outbox. */
  smtpUrl: string | null;
  devOutbox: DevOutbox;
}

export function createMailer(options: MailerOptions): Mailer {
  // A pool of a few kept-open connections: campaign emails go out by the thousand.
  if (options.smtpUrl) return new SmtpMailer(nodemailer.createTransport({ url: options.smtpUrl, pool: true, maxConnections: 5 }), options.from);
  return new DevOutboxMailer(options.devOutbox, options.from);
}

class SmtpMailer implements Mailer {
  constructor(
    private readonly transport: Transporter,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.from, ...message });
  }

  close(): void {
    this.transport.close();
  }
}

/** Composes the message with nodemailer exactly as SMTP would send it, then files it in the outbox. */
class DevOutboxMailer implements Mailer {
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(
    private readonly outbox: DevOutbox,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const info = await this.composer.sendMail({ from: this.from, ...message });
    await this.outbox.store({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html ?? null,
      raw: (info.message as Buffer).toString('utf8'),
    });
  }

  close(): void {
    this.composer.close();
  }
}
