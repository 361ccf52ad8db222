import type { Child, FC } from 'hono/jsx';
import type { FieldErrors } from '../lib/errors.ts';
import { currentLocale, t, translateMessage } from '../i18n/i18n.ts';

/** GOV.UK-style summary at the top of a form, linking to each field in error. */
export const ErrorSummary: FC<{ errors: FieldErrors; labels: Record<string, string> }> = ({ errors, labels }) => {
  const entries = Object.entries(errors);
  if (entries.length === 0) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1}>
      <h2 id="error-summary-title">{t('forms.there_is_a_problem')}</h2>
      <ul>
        {entries.map(([field, message]) => (
          <li>
            <a href={`#${fieldId(field)}`}>{labels[field] ? `${labels[field]}: ${translateMessage(message)}` : translateMessage(message)}</a>
          </li>
        ))}
      </ul>
    </div>
  );
};

/** The element id of a form field (dots in API paths like "target.name" become underscores). */
export function fieldId(name: string): string {
  return `f-${name.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

interface FieldProps {
  name: string;
  label: string;
  hint?: string;
  error?: string | undefined;
  children?: Child;
}

/** Label, hint and error message wrapped around one input, wired up for screen readers. */
const Field: FC<FieldProps> = ({ name, label, hint, error, children }) => (
  <div class={error ? 'field field-error' : 'field'}>
    <label for={fieldId(name)}>{label}</label>
    {hint ? (
      <p class="hint" id={`${fieldId(name)}-hint`}>
        {hint}
      </p>
    ) : null}
    {error ? (
      <p class="error-message" id={`${fieldId(name)}-error`}>
        <span class="visually-hidden">{t('forms.error_prefix')}</span> {translateMessage(error)}
      </p>
    ) : null}
    {children}
  </div>
);

function describedBy(name: string, hint?: string, error?: string): string | undefined {
  const ids = [hint ? `${fieldId(name)}-hint` : '', error ? `${fieldId(name)}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export const TextField: FC<
  FieldProps & {
    value?: string | undefined;
    type?: string;
    autocomplete?: string;
    required?: boolean;
    inputmode?: 'numeric' | 'email' | 'text' | 'tel' | 'url' | 'decimal';
    maxlength?: number;
    inputName?: string;
  }
> = (p) => (
  <Field name={p.name} label={p.label} hint={p.hint} error={p.error}>
    <input
      id={fieldId(p.name)}
      name={p.inputName ?? p.name}
      type={p.type ?? 'text'}
      value={p.value ?? ''}
      autocomplete={p.autocomplete}
      required={p.required}
      inputmode={p.inputmode}
      maxlength={p.maxlength}
      aria-invalid={p.error ? 'true' : undefined}
      aria-describedby={describedBy(p.name, p.hint, p.error)}
    />
  </Field>
);

export const TextArea: FC<FieldProps & { value?: string | undefined; rows?: number; required?: boolean; maxlength?: number; inputName?: string }> = (p) => (
  <Field name={p.name} label={p.label} hint={p.hint} error={p.error}>
    <textarea
      id={fieldId(p.name)}
      name={p.inputName ?? p.name}
      rows={p.rows ?? 5}
      required={p.required}
      maxlength={p.maxlength}
      aria-invalid={p.error ? 'true' : undefined}
      aria-describedby={describedBy(p.name, p.hint, p.error)}
    >
      {p.value ?? ''}
    </textarea>
  </Field>
);

export const SelectField: FC<FieldProps & { value?: string | undefined; options: readonly { value: string; label: string }[] }> = (p) => (
  <Field name={p.name} label={p.label} hint={p.hint} error={p.error}>
    <select
      id={fieldId(p.name)}
      name={p.name}
      aria-invalid={p.error ? 'true' : undefined}
      aria-describedby={describedBy(p.name, p.hint, p.error)}
    >
      {p.options.map((o) => (
        <option value={o.value} selected={o.value === p.value}>
          {o.label}
        </option>
      ))}
    </select>
  </Field>
);

export const Checkbox: FC<{ name: string; label: string; hint?: string; checked?: boolean }> = (p) => (
  <div class="checkbox">
    <input id={fieldId(p.name)} name={p.name} type="checkbox" value="on" checked={p.checked} aria-describedby={p.hint ? `${fieldId(p.name)}-hint` : undefined} />
    <label for={fieldId(p.name)}>{p.label}</label>
    {p.hint ? (
      <p class="hint" id={`${fieldId(p.name)}-hint`}>
        {p.hint}
      </p>
    ) : null}
  </div>
);

export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name="_csrf" value={token} />;

/**
 * Signature count with progress towards a goal, readable without CSS. Once the goal is reached
 * the bar aims at the next step (as large petition sites do); `originalGoal` says so.
 */
export const SignatureProgress: FC<{ count: number; goal: number | null; originalGoal?: number | null; live?: string | undefined }> = ({ count, goal, originalGoal, live }) => {
  const percent = goal ? Math.min(100, Math.floor((count / goal) * 100)) : null;
  return (
    <div class="progress-block" data-live-count={live}>
      <p class="count">
        <strong data-signature-count>{formatNumber(count)}</strong> <span data-signature-word data-words={pluralWords('progress.signature_word')}>
          {t('progress.signature_word', { count })}
        </span>
        {goal ? (
          <span class="goal"> {t(originalGoal && originalGoal !== goal ? 'progress.of_next_goal' : 'progress.of_goal', { goal: formatNumber(goal) })}</span>
        ) : null}
      </p>
      {originalGoal && originalGoal !== goal ? <p class="meta goal-reached">{t('progress.original_goal_reached', { goal: formatNumber(originalGoal) })}</p> : null}
      {goal ? (
        <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={goal} aria-valuenow={Math.min(count, goal)} aria-label={t('progress.label')}>
          <div class={`progress-bar w-${Math.round((percent ?? 0) / 5) * 5}`}></div>
        </div>
      ) : null}
    </div>
  );
};

const pluralWordsCache = new Map<string, string>();
// Intl formatters are costly to build and safe to share: one per locale (and time zone).
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** A word's plural forms in the current language as JSON (category → word), for scripts that update counts. */
function pluralWords(key: string): string {
  const locale = currentLocale();
  const cacheKey = `${locale} ${key}`;
  let words = pluralWordsCache.get(cacheKey);
  if (words === undefined) {
    const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
    words = JSON.stringify(Object.fromEntries(categories.map((c) => [c, t(`${key}_${c}`)])));
    pluralWordsCache.set(cacheKey, words);
  }
  return words;
}

/** "1,804" in the reader's language. */
export function formatNumber(n: number): string {
  const locale = currentLocale();
  let format = numberFormats.get(locale);
  if (!format) numberFormats.set(locale, (format = new Intl.NumberFormat(locale)));
  return format.format(n);
}

/**
 * "under a second", "45 seconds", "12 minutes", "2 hours 5 minutes": a span of time on the staff
 * pages (English only, as they are).
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return 'under a second';
  const plural = (n: number, unit: string) => `${formatNumber(n)} ${unit}${n === 1 ? '' : 's'}`;
  if (ms < 90_000) return plural(Math.max(1, Math.round(ms / 1000)), 'second');
  const minutes = Math.round(ms / 60_000);
  if (minutes < 90) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(minutes % 60, 'minute')}`;
}

/** "15 November 2026" ("15 Tachwedd 2026") in the site's time zone and the reader's language. */
export function formatDate(iso: string, timeZone: string): string {
  const key = `${currentLocale()} ${timeZone}`;
  let format = dateFormats.get(key);
  if (!format) dateFormats.set(key, (format = new Intl.DateTimeFormat(currentLocale(), { day: 'numeric', month: 'long', year: 'numeric', timeZone })));
  return format.format(new Date(iso));
}

/** Plain text with blank-line paragraphs, rendered safely as <p> elements. */
export const Paragraphs: FC<{ text: string }> = ({ text }) => (
  <>
    {text
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => (
        <p>
          {p.split('\n').map((line, i) => (
            <>
              {i > 0 ? <br /> : null}
              {line}
            </>
          ))}
        </p>
      ))}
  </>
);
