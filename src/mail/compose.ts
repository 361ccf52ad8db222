import type { MailMessage } from './mailer.ts';

/** A plain-text email: a greeting, paragraphs (links on their own lines) and the site's sign-off. */
export function composeEmail(input: { to: string; subject: string; greeting: string; paragraphs: string[]; siteName: string }): MailMessage {
  return {
    to: input.to,
    subject: input.subject,
    text: [input.greeting, '', ...input.paragraphs.flatMap((p) => [p, '']), `— ${input.siteName}`].join('\n'),
  };
}

/** Shortens a title for a subject line. */
export function truncate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
