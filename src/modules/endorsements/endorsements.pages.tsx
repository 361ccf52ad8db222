import { t } from '../../i18n/i18n.ts';
import { petitionText } from '../petitions/petition-text.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, ErrorSummary, SelectField, TextArea, TextField } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { formParts } from '../../views/forms.ts';
import { sendPage } from '../../views/render.ts';
import { requirePageUser } from '../auth/auth.plugin.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';
import type { Endorsement } from './endorsements.repository.ts';

const KIND_OPTIONS = [
  { value: 'person', label: 'A person' },
  { value: 'organisation', label: 'An organisation' },
];
const LABELS = { kind: 'Kind', name: 'Name', role: 'Role or title', organisation: 'Organisation', quote: 'Quote', url: 'Web address', image: 'Logo or photo', email: 'Email address' };

const base = (petition: Pick<Petition, 'slug'>) => `/petitions/${encodeURIComponent(petition.slug)}`;

const ManagePage = (p: {
  ctx: PageContext;
  petition: Petition;
  endorsements: Endorsement[];
  canVerify: boolean;
  add: { values: Record<string, string>; errors: FieldErrors };
  invite: { values: Record<string, string>; errors: FieldErrors };
}) => {
  const url = `${base(p.petition)}/endorsements`;
  return (
    <Layout ctx={p.ctx} title={`Endorsements: ${p.petition.title}`}>
      <p>
        <a href={base(p.petition)}>← {p.petition.title}</a>
      </p>
      <h1>Endorsements</h1>
      <p>Shown on the petition page under “Supported by”, organisations and people each in this order.</p>
      {p.endorsements.length === 0 ? <p>None yet.</p> : null}
      <ol class="manage-list">
        {p.endorsements.map((e, i) => (
          <li>
            <strong>{e.name}</strong> ({e.kind}){e.verified ? ' ✓ verified' : ''}
            {e.invitedEmail ? <em> — invited ({e.invitedEmail}), waiting for their statement</em> : null}
            {e.quote ? <p class="meta">“{e.quote}”</p> : null}
            <div class="actions">
              {i > 0 ? (
                <form method="post" action={`${url}/${e.id}/move`} class="inline-action">
                  <CsrfField token={p.ctx.csrfToken} />
                  <input type="hidden" name="direction" value="up" />
                  <button type="submit" class="button button-secondary">
                    Move up<span class="visually-hidden"> {e.name}</span>
                  </button>
                </form>
              ) : null}
              {i < p.endorsements.length - 1 ? (
                <form method="post" action={`${url}/${e.id}/move`} class="inline-action">
                  <CsrfField token={p.ctx.csrfToken} />
                  <input type="hidden" name="direction" value="down" />
                  <button type="submit" class="button button-secondary">
                    Move down<span class="visually-hidden"> {e.name}</span>
                  </button>
                </form>
              ) : null}
              {p.canVerify ? (
                <form method="post" action={`${url}/${e.id}/${e.verified ? 'unverify' : 'verify'}`} class="inline-action">
                  <CsrfField token={p.ctx.csrfToken} />
                  <button type="submit" class="button button-secondary">
                    {e.verified ? 'Remove verified mark' : 'Mark verified'}
                    <span class="visually-hidden"> {e.name}</span>
                  </button>
                </form>
              ) : null}
              <form method="post" action={`${url}/${e.id}/delete`} class="inline-action">
                <CsrfField token={p.ctx.csrfToken} />
                <button type="submit" class="button button-secondary">
                  Remove<span class="visually-hidden"> {e.name}</span>
                </button>
              </form>
            </div>
          </li>
        ))}
      </ol>

      <h2>Add an endorsement</h2>
      <ErrorSummary errors={p.add.errors} labels={LABELS} />
      <form method="post" action={url} enctype="multipart/form-data" novalidate>
        <CsrfField token={p.ctx.csrfToken} />
        <SelectField name="kind" label={LABELS.kind} options={KIND_OPTIONS} value={p.add.values.kind} error={p.add.errors.kind} />
        <TextField name="name" label={LABELS.name} value={p.add.values.name} error={p.add.errors.name} maxlength={150} required />
        <TextField name="role" label={LABELS.role} hint="Optional, e.g. “Member of the London Assembly”." value={p.add.values.role} error={p.add.errors.role} maxlength={150} />
        <TextField name="organisation" label={LABELS.organisation} hint="Optional." value={p.add.values.organisation} error={p.add.errors.organisation} maxlength={150} />
        <TextArea name="quote" label={LABELS.quote} hint="Optional, up to 600 characters." rows={3} value={p.add.values.quote} error={p.add.errors.quote} maxlength={600} />
        <TextField name="url" label={LABELS.url} hint="Optional, e.g. their website." type="url" value={p.add.values.url} error={p.add.errors.url} maxlength={500} />
        <div class={p.add.errors.image ? 'field field-error' : 'field'}>
          <label for="f-image">{LABELS.image}</label>
          <p class="hint" id="f-image-hint">
            Optional. PNG, JPEG, GIF or WebP, at most 2 MB.
          </p>
          {p.add.errors.image ? (
            <p class="error-message" id="f-image-error">
              <span class="visually-hidden">Error:</span> {p.add.errors.image}
            </p>
          ) : null}
          <input id="f-image" name="image" type="file" accept="image/png,image/jpeg,image/gif,image/webp" aria-describedby="f-image-hint" />
        </div>
        <button type="submit" class="button button-primary">
          Add endorsement
        </button>
      </form>

      <h2>Invite someone to endorse</h2>
      <p>They get an email with a link to write their own statement, published with their name.</p>
      <ErrorSummary errors={p.invite.errors} labels={LABELS} />
      <form method="post" action={`${url}/invite`} novalidate>
        <CsrfField token={p.ctx.csrfToken} />
        <SelectField name="kind" label={LABELS.kind} options={KIND_OPTIONS} value={p.invite.values.kind} />
        <TextField name="invite_name" inputName="name" label={LABELS.name} value={p.invite.values.name} error={p.invite.errors.name} maxlength={150} required />
        <TextField name="invite_role" inputName="role" label={LABELS.role} value={p.invite.values.role} maxlength={150} />
        <TextField name="invite_organisation" inputName="organisation" label={LABELS.organisation} value={p.invite.values.organisation} maxlength={150} />
        <TextField name="email" label={LABELS.email} type="email" value={p.invite.values.email} error={p.invite.errors.email} required />
        <button type="submit" class="button button-secondary">
          Send invitation
        </button>
      </form>
    </Layout>
  );
};

const EndorsePage = (p: { ctx: PageContext; petition: Petition; endorsement: Endorsement; token: string; values: Record<string, string>; errors: FieldErrors }) => (
  <Layout ctx={p.ctx} title={t('sign.support_button')}>
    <h1>{t('endorse.heading', { title: petitionText(p.petition).title })}</h1>
    <p>
      {t('endorse.invited', { as: p.endorsement.organisation ? `${p.endorsement.name}, ${p.endorsement.organisation}` : p.endorsement.name })}{' '}
      <a href={base(p.petition)}>{t('endorse.read')}</a>.
    </p>
    <ErrorSummary errors={p.errors} labels={{ quote: t('endorse.quote'), url: t('endorse.url') }} />
    <form method="post" action={`/endorse/${encodeURIComponent(p.token)}`} novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <TextArea name="quote" label={t('endorse.quote')} hint={t('endorse.quote_hint')} rows={4} value={p.values.quote} error={p.errors.quote} maxlength={600} required />
      <TextField name="url" label={t('endorse.url')} type="url" value={p.values.url} error={p.errors.url} maxlength={500} />
      <button type="submit" class="button button-primary">
        {t('endorse.publish')}
      </button>
    </form>
  </Layout>
);


export function registerEndorsementPages(app: FastifyInstance, ctx: AppContext): void {
  const { endorsements, petitions } = ctx.services;

  const show = async (
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    slug: string,
    forms: { add?: { values: Record<string, string>; errors: FieldErrors }; invite?: { values: Record<string, string>; errors: FieldErrors }; status?: number } = {},
  ) => {
    const { petition, endorsements: list } = await endorsements.teamList(user, slug);
    const view = await petitions.viewFor(slug, user);
    const page = (
      <ManagePage
        ctx={await pageContext(ctx, request, reply)}
        petition={petition}
        endorsements={list}
        canVerify={petitions.can(view, 'verify_endorsement')}
        add={forms.add ?? { values: {}, errors: {} }}
        invite={forms.invite ?? { values: {}, errors: {} }}
      />
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page, forms.status ?? 200);
  };

  const back = (reply: FastifyReply, slug: string) => reply.redirect(`/petitions/${encodeURIComponent(slug)}/endorsements`, 303);

  app.get('/petitions/:slug/endorsements', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    return show(request, reply, user, (request.params as { slug: string }).slug);
  });

  app.post('/petitions/:slug/endorsements', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const { fields, image } = formParts(request.body);
    try {
      await endorsements.add(user, slug, fields, image);
      return back(reply, slug);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return show(request, reply, user, slug, { add: { values: fields, errors: err.fields }, status: 422 });
    }
  });

  app.post('/petitions/:slug/endorsements/invite', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const { fields } = formParts(request.body);
    try {
      await endorsements.invite(user, slug, fields, request.language);
      return back(reply, slug);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return show(request, reply, user, slug, { invite: { values: fields, errors: err.fields }, status: 422 });
    }
  });

  const action = (name: string, run: (user: User, slug: string, id: number, body: Record<string, string>) => Promise<unknown>) =>
    app.post(`/petitions/:slug/endorsements/:id/${name}`, { config: { csrf: true } }, async (request, reply) => {
      const user = requirePageUser(request, reply);
      if (!user) return reply;
      const { slug, id } = request.params as { slug: string; id: string };
      await run(user, slug, Number(id) || 0, formParts(request.body).fields);
      return back(reply, slug);
    });
  action('move', (user, slug, id, body) => endorsements.move(user, slug, id, body.direction === 'up' ? 'up' : 'down'));
  action('delete', (user, slug, id) => endorsements.remove(user, slug, id));
  action('verify', (user, slug, id) => endorsements.setVerified(user, slug, id, true));
  action('unverify', (user, slug, id) => endorsements.setVerified(user, slug, id, false));

  app.get('/endorse/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    const { endorsement, petition } = await endorsements.invitationFor(token);
    const page = <EndorsePage ctx={await pageContext(ctx, request, reply)} petition={petition} endorsement={endorsement} token={token} values={{}} errors={{}} />;
    return sendPage(reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store'), page);
  });

  app.post('/endorse/:token', { config: { csrf: true } }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const { fields } = formParts(request.body);
    try {
      const petition = await endorsements.answerInvitation(token, fields);
      return reply.redirect(`/petitions/${encodeURIComponent(petition.slug)}#supported-title`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const { endorsement, petition } = await endorsements.invitationFor(token);
      const page = <EndorsePage ctx={await pageContext(ctx, request, reply)} petition={petition} endorsement={endorsement} token={token} values={fields} errors={err.fields} />;
      return sendPage(reply, page, 422);
    }
  });
}
