/**
 * A message with any email address reduced to its domain. A mail relay's refusal names the
 * recipient ("550 5.1.1 <ann@example.net>: no such user"): what is kept of a failure (the job's
 * last error, the log) needs the reason, not the person.
 */
export function withoutEmailAddresses(text: string): string {
  return text.replace(/[^\s<>()[\]"',;:]+@([^\s<>()[\]"',;:]+)/g, '…@$1');
}
