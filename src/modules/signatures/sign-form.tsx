import type { FC } from 'hono/jsx';
import { COUNTRIES } from '../../lib/countries.ts';
import type { FieldErrors } from '../../lib/errors.ts';
import { Checkbox, CsrfField, ErrorSummary, SelectField, TextField } from '../../views/components.tsx';

export type SignFormValues = Partial<Record<'name' | 'email' | 'postcode' | 'country' | 'public_name' | 'contact_opt_in' | 'support_token', string>>;

export const SIGN_FORM_LABELS: Record<string, string> = {
  name: 'Full name',
  email: 'Email address',
  postcode: 'Postcode',
  country: 'Country',
};

const countryOptions = COUNTRIES.map((c) => ({ value: c.code, label: c.name }));

/** The signing form: plain HTML that works on any phone without JavaScript. */
export const SignForm: FC<{ slug: string; csrfToken: string; values: SignFormValues; errors: FieldErrors; supportToken?: string | null }> = ({
  slug,
  csrfToken,
  values,
  errors,
  supportToken,
}) => (
  <section class="sign" aria-labelledby="sign-title">
    <h2 id="sign-title">Sign this petition</h2>
    <ErrorSummary errors={errors} labels={SIGN_FORM_LABELS} />
    <form method="post" action={`/petitions/${encodeURIComponent(slug)}/sign`} novalidate>
      <CsrfField token={csrfToken} />
      {supportToken ? <input type="hidden" name="support_token" value={supportToken} /> : null}
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
        <Checkbox name="public_name" label="Show my name publicly as a supporter" checked={values.public_name === 'on'} />
        <Checkbox
          name="contact_opt_in"
          label="Email me about this campaign"
          hint="Updates from the campaign team and the outcome. You can unsubscribe at any time."
          checked={values.contact_opt_in === 'on'}
        />
      </fieldset>
      <button type="submit" class="button button-primary">
        {supportToken ? 'Support this petition' : 'Sign this petition'}
      </button>
    </form>
  </section>
);
