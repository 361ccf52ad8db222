import type { AppContext } from '../../src/context.ts';

/** Mails in the dev outbox addressed to `to`, oldest first. */
export async function mailsTo(ctx: AppContext, to: string) {
  return (await ctx.devOutbox.list(10_000)).filter((m) => m.to === to).reverse();
}

/** The confirmation link (path and query) in an email's text. */
export function confirmationPath(text: string): string {
  const match = /https?:\/\/[^/\s]+(\/signatures\/confirm\?token=[^\s]+)/.exec(text);
  if (!match) throw new Error(`no confirmation link in:\n${text}`);
  return match[1]!;
}
