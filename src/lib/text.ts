import { z } from 'zod';

// Control characters never belong in what people type; NUL is refused outright by PostgreSQL.
const CONTROL_EXCEPT_NEWLINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const ANY_CONTROL = /[\u0000-\u001F\u007F]/;

export interface TextRules {
  min?: number;
  max: number;
  /** Message when missing, empty or shorter than `min`. */
  required?: string;
}

function bounded(rules: TextRules): z.ZodString {
  let s = z.string({ error: rules.required ?? 'Enter some text' }).trim();
  if (rules.min) s = s.min(rules.min, rules.required ?? `Use at least ${rules.min} characters`);
  return s.max(rules.max, `Use at most ${rules.max.toLocaleString('en-GB')} characters`);
}

/** One line of text (a name, a title): trimmed, no line breaks or control characters. */
export function singleLine(rules: TextRules) {
  return bounded(rules).refine((v) => !ANY_CONTROL.test(v), 'Use ordinary characters only, on one line');
}

/** Paragraphs of text: trimmed, line breaks normalised to \n, no other control characters. */
export function multiLine(rules: TextRules) {
  return bounded(rules)
    .refine((v) => !CONTROL_EXCEPT_NEWLINES.test(v), 'Use ordinary characters only')
    .transform((v) => v.replace(/\r\n?/g, '\n'));
}
