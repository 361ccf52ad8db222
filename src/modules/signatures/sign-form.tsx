import type { FC } from 'hono/jsx';
import { countriesInCurrentLanguage } from '../../lib/countries.ts';
import { currentLanguage, t } from '../../i18n/i18n.ts';
import type { FieldErrors } from '../../lib/errors.ts';
import { Checkbox, CsrfField, ErrorSummary, SelectField, TextField } from '../../views/components.tsx';
import { consentWording } from './signatures.schema.ts';

export type SignFormValues = Partial<Record<'name' | 'email' | 'postcode' | 'country' | 'public_name' | 'contact_opt_in' | 'support_token' | 'website' | 'form_started' | 'challenge' | 'challenge_answer', string>>;

/** The signing form's field labels in the current language (the error summary names fields by them). */
export function signFormLabels(): Record<string, string> {
  return {
    name: t('sign.name'),
    email: t('sign.email'),
    postcode: t('sign.postcode'),
    country: t('sign.country'),
    challenge: t('sign.challenge'),
  };
}

/** The signing form: plain HTML that works on any phone without JavaScript. */
export const SignForm: FC<{
  slug: string;
  csrfToken: string;
  values: SignFormValues;
  errors: FieldErrors;
  supportToken?: string | null;
  formStarted?: string;
  challenge?: { challenge: string; bits: number } | null;
}> = ({ slug, csrfToken, values, errors, supportToken, formStarted, challenge }) => {
  const labels = signFormLabels();
  const consent = consentWording(currentLanguage());
  const countryOptions = countriesInCurrentLanguage().map((c) => ({ value: c.code, label: c.name }));
  return (
  <section class="sign" aria-labelledby="sign-title">
    <h2 id="sign-title">{t('sign.heading')}</h2>
    <ErrorSummary errors={errors} labels={labels} />
    {challenge ? (
      <noscript>
        <p class="banner banner-notice">{t('sign.challenge_needs_javascript')}</p>
      </noscript>
    ) : null}
    <form method="post" action={`/petitions/${encodeURIComponent(slug)}/sign`} novalidate data-challenge-bits={challenge ? String(challenge.bits) : undefined}>
      <CsrfField token={csrfToken} />
      {/* Bots fill every field; people never see this one. */}
      <div class="honeypot" aria-hidden="true">
        <label for="f-website">{t('sign.honeypot')}</label>
        <input id="f-website" name="website" type="text" tabindex={-1} autocomplete="off" value="" />
      </div>
      {formStarted ? <input type="hidden" name="form_started" value={formStarted} /> : null}
      {supportToken ? <input type="hidden" name="support_token" value={supportToken} /> : null}
      {challenge ? (
        <>
          <input type="hidden" name="challenge" value={challenge.challenge} />
          <input type="hidden" name="challenge_answer" value="" />
        </>
      ) : null}
      <TextField name="name" label={labels.name!} autocomplete="name" value={values.name} error={errors.name} maxlength={100} required />
      <TextField
        name="email"
        label={labels.email!}
        hint={t('sign.email_hint')}
        type="email"
        autocomplete="email"
        value={values.email}
        error={errors.email}
        maxlength={254}
        required
      />
      <SelectField name="country" label={labels.country!} value={values.country ?? 'GB'} options={countryOptions} error={errors.country} />
      <TextField
        name="postcode"
        label={labels.postcode!}
        hint={t('sign.postcode_hint')}
        autocomplete="postal-code"
        value={values.postcode}
        error={errors.postcode}
        maxlength={16}
      />
      <fieldset class="choices">
        <legend>{t('sign.choices')}</legend>
        <Checkbox name="public_name" label={consent.public_name} checked={values.public_name === 'on'} />
        <Checkbox
          name="contact_opt_in"
          label={consent.contact_opt_in}
          hint={t('sign.contact_hint')}
          checked={values.contact_opt_in === 'on'}
        />
      </fieldset>
      <p class="hint">
        {t('sign.privacy_before')} <a href="/privacy">{t('sign.privacy_link')}</a>. {t('sign.privacy_after')}
      </p>
      <button type="submit" class="button button-primary">
        {supportToken ? t('sign.support_button') : t('sign.sign_button')}
      </button>
      {challenge ? <p class="hint" role="status" data-challenge-status></p> : null}
    </form>
  </section>
  );
};
