import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { raw } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { markdownExcerpt, renderMarkdown } from '../../lib/markdown.ts';
import { Checkbox, CsrfField, ErrorSummary, formatDate, formatNumber, TextArea, TextField } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext, sendSharedPage } from '../../views/pages.tsx';
import { formParts } from '../../views/forms.ts';
import { sendPage } from '../../views/render.ts';
import { requirePageUser } from '../auth/auth.plugin.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { UpdateWithEmail } from './updates.service.ts';
import { t } from '../../i18n/i18n.ts';
import { petitionText } from '../petitions/petition-text.ts';

const base = (petition: Pick<Petition, 'slug'>) => `/petitions/${encodeURIComponent(petition.slug)}`;

/** "Emailed to 120 of 500 signers" while sending, "Emailed to 500 signers" when done. */
export const EmailProgress = ({ update }: { update: UpdateWithEmail }) =>
  update.email ? (
    <p class="meta email-progress">
      {update.email.finishedAt
        ? t('updates.emailed', { count: update.email.sent, n: formatNumber(update.email.sent) })
        : t('updates.emailing', { sent: formatNumber(update.email.sent), total: formatNumber(update.email.total) })}
    </p>
  ) : null;

/** The updates section of a petition page: newest first, each with an excerpt. */
export const UpdatesSection = (p: { petition: Petition; updates: UpdateWithEmail[]; canPost: boolean; timeZone: string }) => {
  if (p.updates.length === 0 && !p.canPost) return null;
  return (
    <section aria-labelledby="updates-title" class="updates">
      <h2 id="updates-title">{t('updates.heading')}</h2>
      {p.canPost ? (
        <p>
          <a class="button button-secondary" href={`${base(p.petition)}/updates/new`}>
            {t('updates.post')}
          </a>
        </p>
      ) : null}
      {p.updates.length === 0 ? <p>{t('updates.none')}</p> : null}
      <ol class="update-list">
        {p.updates.map((u) => (
          <li>
            <h3>
              <a href={`${base(p.petition)}/updates/${u.id}`}>{u.title}</a>
            </h3>
            <p class="meta">{formatDate(u.createdAt, p.timeZone)}</p>
            <p>{markdownExcerpt(u.body, 240)}</p>
            {p.canPost ? <EmailProgress update={u} /> : null}
          </li>
        ))}
      </ol>
      <p>
        <a href={`${base(p.petition)}/feed.atom`}>{t('updates.feed')}</a>
      </p>
    </section>
  );
};

const UpdateForm = (p: {
  ctx: PageContext;
  petition: Petition;
  action: string;
  title: string;
  values: Record<string, string>;
  errors: FieldErrors;
  recipients: number | null;
}) => (
  <Layout ctx={p.ctx} title={p.title}>
    <p>
      <a href={base(p.petition)}>← {p.petition.title}</a>
    </p>
    <h1>{p.title}</h1>
    <ErrorSummary errors={p.errors} labels={{ title: 'Title', body: 'Update', image: 'Image' }} />
    <form method="post" action={p.action} enctype="multipart/form-data" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
      <TextField name="title" label="Title" value={p.values.title} error={p.errors.title} maxlength={150} required />
      <TextArea
        name="body"
        label="Update"
        hint="Markdown works: **bold**, *italic*, [a link](https://example.org), lists with “- ”. Leave a blank line between paragraphs."
        rows={12}
        value={p.values.body}
        error={p.errors.body}
        maxlength={20000}
        required
      />
      <div class={p.errors.image ? 'field field-error' : 'field'}>
        <label for="f-image">Image (optional)</label>
        <p class="hint" id="f-image-hint">
          PNG, JPEG, GIF or WebP, at most 2 MB.
        </p>
        {p.errors.image ? (
          <p class="error-message" id="f-image-error">
            <span class="visually-hidden">Error:</span> {p.errors.image}
          </p>
        ) : null}
        <input id="f-image" name="image" type="file" accept="image/png,image/jpeg,image/gif,image/webp" aria-describedby="f-image-hint" />
      </div>
      {p.recipients !== null ? (
        <Checkbox
          name="email_signers"
          label={`Email this update to the ${formatNumber(p.recipients)} ${p.recipients === 1 ? 'signer' : 'signers'} who agreed to hear from the campaign`}
          hint="Each gets it once, with a one-click unsubscribe link."
          checked={p.values.email_signers === 'on'}
        />
      ) : null}
      <button type="submit" class="button button-primary">
        {p.recipients !== null ? 'Post update' : 'Save changes'}
      </button>
    </form>
  </Layout>
);

const UpdatePage = (p: { ctx: PageContext; petition: Petition; update: UpdateWithEmail; canEdit: boolean; timeZone: string; url: string }) => (
  <Layout ctx={p.ctx} title={`${p.update.title} – ${petitionText(p.petition).title}`} description={markdownExcerpt(p.update.body, 200)} canonicalUrl={p.url}>
    <p>
      <a href={base(p.petition)}>← {petitionText(p.petition).title}</a>
    </p>
    <article class="update">
      <h1>{p.update.title}</h1>
      <p class="meta">
        {formatDate(p.update.createdAt, p.timeZone)}
        {p.update.authorName ? ` · ${p.update.authorName}` : ''}
      </p>
      {p.update.imageUploadId ? <img class="update-image" src={`/uploads/${p.update.imageUploadId}`} alt="" /> : null}
      <div class="prose">{raw(renderMarkdown(p.update.body))}</div>
      {p.canEdit ? (
        <div class="panel">
          <EmailProgress update={p.update} />
          <div class="actions">
            <a class="button button-secondary" href={`${base(p.petition)}/updates/${p.update.id}/edit`}>
              {t('petition.team.edit')}
            </a>
            <form method="post" action={`${base(p.petition)}/updates/${p.update.id}/delete`} class="inline-action">
              <CsrfField token={p.ctx.csrfToken} />
              <button type="submit" class="button button-secondary">
                {t('updates.delete')}
              </button>
            </form>
          </div>
        </div>
      ) : null}
    </article>
    <p>
      <a class="button button-primary" href={base(p.petition)}>
        {p.petition.state === 'open' ? t('updates.sign_the_petition') : t('updates.see_the_petition')}
      </a>
    </p>
  </Layout>
);


export function registerUpdatePages(app: FastifyInstance, ctx: AppContext): void {
  const { updates, petitions } = ctx.services;

  const recipientsOf = async (petition: Petition) =>
    (await ctx.repositories.signatures.countContactable(petition.id));

  const showForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    petition: Petition,
    options: { id?: number; values: Record<string, string>; errors: FieldErrors; status?: number },
  ) => {
    const editing = options.id !== undefined;
    const page = (
      <UpdateForm
        ctx={await pageContext(ctx, request, reply)}
        petition={petition}
        action={editing ? `${base(petition)}/updates/${options.id}/edit` : `${base(petition)}/updates`}
        title={editing ? 'Edit update' : 'Post an update'}
        values={options.values}
        errors={options.errors}
        recipients={editing ? null : await recipientsOf(petition)}
      />
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page, options.status ?? 200);
  };

  const teamPetition = async (request: FastifyRequest) => {
    const { slug } = request.params as { slug: string };
    const view = await petitions.viewFor(slug, request.user);
    if (!petitions.can(view, 'campaign')) throw new AppError('forbidden', 'Only the petition’s owners and editors can post updates.');
    return view.petition;
  };

  app.get('/petitions/:slug/updates/new', async (request, reply) => {
    if (!requirePageUser(request, reply)) return reply;
    return showForm(request, reply, await teamPetition(request), { values: {}, errors: {} });
  });

  app.post('/petitions/:slug/updates', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const { fields, image } = formParts(request.body);
    try {
      const update = await updates.post(user, slug, fields, image);
      return reply.redirect(`/petitions/${encodeURIComponent(slug)}/updates/${update.id}`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return showForm(request, reply, await teamPetition(request), { values: fields, errors: err.fields, status: 422 });
    }
  });

  app.get('/petitions/:slug/updates/:id', async (request, reply) => {
    const { slug, id } = request.params as { slug: string; id: string };
    const updateId = Number(id) || 0;
    // An update goes by email to every signer, who follow its link in a wave: visitors not
    // signed in all see the same page, rendered (its reads, its Markdown) once a moment like the
    // petition's page; the team's has the edit buttons and is rendered for each of them.
    return sendSharedPage(ctx, request, reply, `/petitions/${encodeURIComponent(slug)}/updates/${updateId}`, async (pageCtx) => {
      const { petition, update } = await updates.get(slug, updateId, request.user);
      const view = await petitions.viewFor(slug, request.user);
      const url = `${petitions.urlFor(petition)}/updates/${update.id}`;
      return <UpdatePage ctx={pageCtx} petition={petition} update={update} canEdit={petitions.can(view, 'campaign')} timeZone={ctx.config.timeZone} url={url} />;
    });
  });

  app.get('/petitions/:slug/updates/:id/edit', async (request, reply) => {
    if (!requirePageUser(request, reply)) return reply;
    const petition = await teamPetition(request);
    const { id } = request.params as { id: string };
    const { update } = await updates.get(petition.slug, Number(id) || 0, request.user);
    return showForm(request, reply, petition, { id: update.id, values: { title: update.title, body: update.body }, errors: {} });
  });

  app.post('/petitions/:slug/updates/:id/edit', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug, id } = request.params as { slug: string; id: string };
    const { fields, image } = formParts(request.body);
    try {
      const update = await updates.edit(user, slug, Number(id) || 0, fields, image);
      return reply.redirect(`/petitions/${encodeURIComponent(slug)}/updates/${update.id}`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return showForm(request, reply, await teamPetition(request), { id: Number(id), values: fields, errors: err.fields, status: 422 });
    }
  });

  app.post('/petitions/:slug/updates/:id/delete', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug, id } = request.params as { slug: string; id: string };
    await updates.remove(user, slug, Number(id) || 0);
    return reply.redirect(`/petitions/${encodeURIComponent(slug)}`, 303);
  });
}
