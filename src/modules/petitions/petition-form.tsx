import type { FieldErrors } from '../../lib/errors.ts';
import { LANGUAGE_NAMES, LANGUAGES, t, translateMessage, type Language } from '../../i18n/i18n.ts';
import { CsrfField, ErrorSummary, SelectField, TextArea, TextField } from '../../views/components.tsx';
import type { Petition } from './petitions.service.ts';

/** The petition form's field labels in the current language (the error summary names fields by them). */
export function petitionFormLabels(): Record<string, string> {
  return {
    title: t('petition_form.title'),
    action: t('petition_form.action'),
    background: t('petition_form.background'),
    'target.name': t('petition_form.target_name'),
    'target.role': t('petition_form.target_role'),
    'target.organisation': t('petition_form.target_organisation'),
    deadline: t('petition_form.deadline'),
    goal: t('petition_form.goal'),
    language: t('petition_form.language'),
    translation: t('petition_form.translation'),
    'translation.title': t('petition_form.translation_title'),
    'translation.action': t('petition_form.translation_action'),
    'translation.background': t('petition_form.translation_background'),
  };
}

export type PetitionFormValues = Partial<Record<string, string>>;

/** Maps the web form's flat fields onto the API's input shape, so both share one schema. */
export function petitionInputFromForm(body: Record<string, unknown>) {
  const s = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
  const goal = s('goal').replace(/[,\s]/g, '');
  const translation = { title: s('translation_title'), action: s('translation_action'), background: s('translation_background') };
  return {
    title: s('title'),
    action: s('action'),
    background: s('background'),
    target: { name: s('target_name'), role: s('target_role'), organisation: s('target_organisation') },
    deadline: s('deadline').trim() || null,
    goal: goal ? Number(goal) : null,
    language: s('language') || undefined,
    // Left blank, the translation is simply absent; partly filled, each missing part is named.
    translation: Object.values(translation).some((v) => v.trim()) ? translation : null,
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
    language: petition.language,
    translation_title: petition.translation?.title ?? '',
    translation_action: petition.translation?.action ?? '',
    translation_background: petition.translation?.background ?? '',
  };
}

/** Every string field of a posted form, to show back what was typed. */
export function typedValues(body: Record<string, unknown>): PetitionFormValues {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as PetitionFormValues;
}

/** The petition form, for starting a petition and for editing one. */
export const PetitionForm = (p: { action: string; csrfToken: string; values: PetitionFormValues; errors: FieldErrors; submitLabel: string; language: Language }) => {
  const labels = petitionFormLabels();
  const language = (LANGUAGES as readonly string[]).includes(p.values.language ?? '') ? (p.values.language as Language) : p.language;
  return (
    <>
      <ErrorSummary errors={p.errors} labels={labels} />
      <form method="post" action={p.action} novalidate>
        <CsrfField token={p.csrfToken} />
        <SelectField
          name="language"
          label={labels.language!}
          hint={t('petition_form.language_hint')}
          value={language}
          options={LANGUAGES.map((l) => ({ value: l, label: LANGUAGE_NAMES[l] }))}
          error={p.errors.language}
        />
        <TextField name="title" label={labels.title!} hint={t('petition_form.title_hint')} value={p.values.title} error={p.errors.title} maxlength={150} required />
        <TextArea name="action" label={labels.action!} hint={t('petition_form.action_hint')} rows={3} value={p.values.action} error={p.errors.action} maxlength={1000} required />
        <TextArea name="background" label={labels.background!} hint={t('petition_form.background_hint')} rows={8} value={p.values.background} error={p.errors.background} maxlength={10000} required />
        <fieldset>
          <legend>{t('petition_form.who_decides')}</legend>
          <TextField name="target.name" inputName="target_name" label={labels['target.name']!} hint={t('petition_form.target_name_hint')} value={p.values.target_name} error={p.errors['target.name']} maxlength={200} required />
          <TextField name="target.role" inputName="target_role" label={labels['target.role']!} hint={t('petition_form.target_role_hint')} value={p.values.target_role} error={p.errors['target.role']} maxlength={200} />
          <TextField name="target.organisation" inputName="target_organisation" label={labels['target.organisation']!} hint={t('petition_form.target_organisation_hint')} value={p.values.target_organisation} error={p.errors['target.organisation']} maxlength={200} />
        </fieldset>
        <TextField name="deadline" label={labels.deadline!} hint={t('petition_form.deadline_hint')} type="date" value={p.values.deadline} error={p.errors.deadline} />
        <TextField name="goal" label={labels.goal!} hint={t('petition_form.goal_hint')} inputmode="numeric" value={p.values.goal} error={p.errors.goal} />
        <fieldset>
          <legend>{t('petition_form.translation')}</legend>
          <p class="hint">{t('petition_form.translation_hint')}</p>
          {p.errors.translation ? (
            <p class="error-message" id="f-translation">
              {translateMessage(p.errors.translation)}
            </p>
          ) : null}
          <TextField name="translation.title" inputName="translation_title" label={labels['translation.title']!} value={p.values.translation_title} error={p.errors['translation.title']} maxlength={150} />
          <TextArea name="translation.action" inputName="translation_action" label={labels['translation.action']!} rows={3} value={p.values.translation_action} error={p.errors['translation.action']} maxlength={1000} />
          <TextArea name="translation.background" inputName="translation_background" label={labels['translation.background']!} rows={8} value={p.values.translation_background} error={p.errors['translation.background']} maxlength={10000} />
        </fieldset>
        <button type="submit" class="button button-primary">
          {p.submitLabel}
        </button>
      </form>
    </>
  );
};
