import type { FC } from 'hono/jsx';
import { COUNTRIES } from '../../lib/countries.ts';
import type { FieldErrors } from '../../lib/errors.ts';
import { Checkbox, CsrfField, ErrorSummary, SelectField, TextField } from '../../views/components.tsx';
import { CONSENT_WORDING } from './signatures.schema.ts';

export type SignFormValues = Partial<Record<'name' | 'email' | 'postcode' | 'country' | 'public_name' | 'contact_opt_in' | 'support_token' | 'website' | 'form_started' | 'challenge' | 'challenge_answer', string>>;

export const SIGN_FORM_LABELS: Record<string, string> = {
  name: 'Full name',
  email: 'Email address',
  postcode: 'Postcode',
  country: 'Country',
  challenge: 'Browser check',
};

const countryOptions = COUNTRIES.map((c) => ({ value: c.code, label: c.name }));

/** The signing form: plain HTML that works on any phone without JavaScript. */
export const SignForm: FC<{
  slug: string;
  csrfToken: string;
  values: SignFormValues;
  errors: FieldErrors;
  supportToken?: string | null;
  formStarted?: string;
  challenge?: { challenge: string; bits: number } | null;
}> = ({ slug, csrfToken, values, errors, supportToken, formStarted, challenge }) => (
  <section class="sign" aria-labelledby="sign-title">
    <h2 id="sign-title">Sign this petition</h2>
    <ErrorSummary errors={errors} labels={SIGN_FORM_LABELS} />
    {challenge ? (
      <noscript>
        <p class="banner banner-notice">This petition is being flooded with automated signatures, so for now signing needs JavaScript for a quick check.</p>
      </noscript>
    ) : null}
    <form method="post" action={`/petitions/${encodeURIComponent(slug)}/sign`} novalidate data-challenge-bits={challenge ? String(challenge.bits) : undefined}>
      <CsrfField token={csrfToken} />
      {/* Bots fill every field; people never see this one. */}
      <div class="honeypot" aria-hidden="true">
        <label for="f-website">Leave this empty</label>
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
      <TextField name="name" label={SIGN_FORM_LABELS.name!} autocomplete="name" value={values.name} error={errors.name} maxlength={100} required />
      <TextField
        name="email"
        label={SIGN_FORM_LABELS.email!}
        hint="We will email you a link to confirm your signature. It is never shown publicly."
        type="email"
        autocomplete="email"
        value={values.email}
        error={errors.email}
        maxlength={254}
        required
      />
      <SelectField name="country" label={SIGN_FORM_LABELS.country!} value={values.country ?? 'GB'} options={countryOptions} error={errors.country} />
      <TextField
        name="postcode"
        label={SIGN_FORM_LABELS.postcode!}
        hint="Needed if you live in the UK. We only ever show the area, never your full postcode."
        autocomplete="postal-code"
        value={values.postcode}
        error={errors.postcode}
        maxlength={16}
      />
      <fieldset class="choices">
        <legend>Your choices</legend>
        <Checkbox name="public_name" label={CONSENT_WORDING.public_name} checked={values.public_name === 'on'} />
        <Checkbox
          name="contact_opt_in"
          label={CONSENT_WORDING.contact_opt_in}
          hint="Updates from the campaign team and the outcome. You can unsubscribe at any time."
          checked={values.contact_opt_in === 'on'}
        />
      </fieldset>
      <p class="hint">
        We use your details only for this petition: see <a href="/privacy">how we look after them</a>. You can remove your signature with the link in your
        confirmation email.
      </p>
      <button type="submit" class="button button-primary">
        {supportToken ? 'Support this petition' : 'Sign this petition'}
      </button>
      {challenge ? <p class="hint" role="status" data-challenge-status></p> : null}
    </form>
  </section>
);
