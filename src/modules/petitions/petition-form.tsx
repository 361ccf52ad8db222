import type { FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, TextArea, TextField } from '../../views/components.tsx';
import type { Petition } from './petitions.service.ts';

export const PETITION_FORM_LABELS: Record<string, string> = {
  title: 'Title',
  action: 'What are you asking for?',
  background: 'Why does it matter?',
  'target.name': 'Name of the decision-maker',
  'target.role': 'Their role',
  'target.organisation': 'Their organisation',
  deadline: 'Deadline',
  goal: 'Signature goal',
};

export type PetitionFormValues = Partial<Record<string, string>>;

/** Maps the web form's flat fields onto the API's input shape, so both share one schema. */
export function petitionInputFromForm(body: Record<string, unknown>) {
  const s = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
  const goal = s('goal').replace(/[,\s]/g, '');
  return {
    title: s('title'),
    action: s('action'),
    background: s('background'),
    target: { name: s('target_name'), role: s('target_role'), organisation: s('target_organisation') },
    deadline: s('deadline').trim() || null,
    goal: goal ? Number(goal) : null,
  };
}

/** The form's values for an existing petition (the deadline as the calendar day it ends on). */
export function formValuesOf(petition: Petition, timeZone: string): PetitionFormValues {
  const day = petition.deadline
    ? new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(petition.deadline))
    : '';
  return {
    title: petition.title,
    action: petition.action,
    background: petition.background,
    target_name: petition.target.name,
    target_role: petition.target.role ?? '',
    target_organisation: petition.target.organisation ?? '',
    deadline: day,
    goal: petition.goal ? String(petition.goal) : '',
  };
}

/** Every string field of a posted form, to show back what was typed. */
export function typedValues(body: Record<string, unknown>): PetitionFormValues {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as PetitionFormValues;
}

/** The petition form, for starting a petition and for editing one. */
export const PetitionForm = (p: { action: string; csrfToken: string; values: PetitionFormValues; errors: FieldErrors; submitLabel: string }) => (
  <>
    <ErrorSummary errors={p.errors} labels={PETITION_FORM_LABELS} />
    <form method="post" action={p.action} novalidate>
      <CsrfField token={p.csrfToken} />
      <TextField name="title" label={PETITION_FORM_LABELS.title!} hint="A short headline, e.g. “Keep the Met’s human trafficking unit open”." value={p.values.title} error={p.errors.title} maxlength={150} required />
      <TextArea name="action" label={PETITION_FORM_LABELS.action!} hint="The decision you want, in a sentence or two." rows={3} value={p.values.action} error={p.errors.action} maxlength={1000} required />
      <TextArea name="background" label={PETITION_FORM_LABELS.background!} hint="The facts and reasons. Leave a blank line between paragraphs." rows={8} value={p.values.background} error={p.errors.background} maxlength={10000} required />
      <fieldset>
        <legend>Who decides?</legend>
        <TextField name="target.name" inputName="target_name" label={PETITION_FORM_LABELS['target.name']!} hint="A person or a body, e.g. “Sir Ian Blair”." value={p.values.target_name} error={p.errors['target.name']} maxlength={200} required />
        <TextField name="target.role" inputName="target_role" label={PETITION_FORM_LABELS['target.role']!} hint="Optional, e.g. “Commissioner”." value={p.values.target_role} error={p.errors['target.role']} maxlength={200} />
        <TextField name="target.organisation" inputName="target_organisation" label={PETITION_FORM_LABELS['target.organisation']!} hint="Optional, e.g. “Metropolitan Police”." value={p.values.target_organisation} error={p.errors['target.organisation']} maxlength={200} />
      </fieldset>
      <TextField name="deadline" label={PETITION_FORM_LABELS.deadline!} hint="Optional. The petition closes at the end of this day, e.g. before the meeting where the decision is taken." type="date" value={p.values.deadline} error={p.errors.deadline} />
      <TextField name="goal" label={PETITION_FORM_LABELS.goal!} hint="Optional. How many signatures you are aiming for." inputmode="numeric" value={p.values.goal} error={p.errors.goal} />
      <button type="submit" class="button button-primary">
        {p.submitLabel}
      </button>
    </form>
  </>
);
