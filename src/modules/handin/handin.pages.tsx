import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { Checkbox, CsrfField, ErrorSummary, formatDate, formatNumber, Paragraphs, SelectField, TextArea, TextField } from '../../views/components.tsx';
import { formParts } from '../../views/forms.ts';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { requirePageUser } from '../auth/auth.plugin.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';
import type { Delivery, PaperBatch, Response } from './handin.repository.ts';
import { OUTCOME_LABELS, OUTCOMES } from './handin.schema.ts';
import type { ImportReport } from './handin.service.ts';
import { t } from '../../i18n/i18n.ts';

const base = (petition: Pick<Petition, 'slug'>) => `/petitions/${encodeURIComponent(petition.slug)}`;

/** Several forms share a page: their fields' ids (and error links) carry the form's prefix. */
const prefixed = (errors: FieldErrors, prefix: string): FieldErrors => Object.fromEntries(Object.entries(errors).map(([k, v]) => [`${prefix}${k}`, v]));

/** Online, paper and total signatures, each labelled (shown once paper signatures exist). */
export const SignatureTotals = ({ petition }: { petition: Petition }) =>
  petition.paperSignatureCount > 0 ? (
    <dl class="totals">
      <dt>{t('handin.online')}</dt>
      <dd>{formatNumber(petition.signatureCount)}</dd>
      <dt>{t('handin.on_paper')}</dt>
      <dd>{formatNumber(petition.paperSignatureCount)}</dd>
      <dt>{t('handin.total')}</dt>
      <dd>
        <strong>{formatNumber(petition.signatureCount + petition.paperSignatureCount)}</strong>
      </dd>
    </dl>
  ) : null;

/** The outcome, the hand-in and the response, as the public sees them on the petition page. */
export const HandinRecord = (p: { petition: Petition; delivery: Delivery | null; response: Response | null; timeZone: string }) => {
  const { petition, delivery, response } = p;
  if (!delivery && !response && !petition.outcome) return null;
  return (
    <section aria-labelledby="handin-title" class="handin-record">
      <h2 id="handin-title">{t('handin.what_happened')}</h2>
      {petition.outcome ? (
        <div class={`outcome outcome-${petition.outcome.result}`}>
          <p>
            {petition.outcome.result === 'won' ? <strong class="victory-badge">{t('petition.victory')}</strong> : null}{' '}
            <strong>{t('handin.outcome', { outcome: t(`handin.outcome_${petition.outcome.result}`) })}</strong>
          </p>
          {petition.outcome.summary ? <Paragraphs text={petition.outcome.summary} /> : null}
        </div>
      ) : null}
      {delivery ? (
        <div class="delivery">
          <h3>{t('handin.handed_in')}</h3>
          <p>
            {t(petition.signatureCount + petition.paperSignatureCount > 0 ? 'handin.delivery_with_count' : 'handin.delivery', {
              date: formatDate(delivery.delivered_at, p.timeZone),
              place: delivery.place,
              by: delivery.presented_by,
              to: delivery.recipient_body ? `${delivery.recipient_name} (${delivery.recipient_body})` : delivery.recipient_name,
              n: formatNumber(petition.signatureCount + petition.paperSignatureCount),
            })}
          </p>
          {delivery.notes ? <Paragraphs text={delivery.notes} /> : null}
          {delivery.photos.length ? (
            <ul class="photos">
              {delivery.photos.map((photo) => (
                <li>
                  <img src={`/uploads/${photo.uploadId}`} alt={photo.caption ?? t('handin.photo')} />
                  {photo.caption ? <span class="meta">{photo.caption}</span> : null}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {response ? (
        <div class="response">
          <h3>{t('handin.the_response')}</h3>
          <p class="meta">
            {response.responder}, {formatDate(`${response.responded_on}T12:00:00Z`, p.timeZone)}
          </p>
          <blockquote>
            <Paragraphs text={response.text} />
          </blockquote>
          {response.document_url ? (
            <p>
              <a href={response.document_url} rel="nofollow noopener">
                {t('handin.read_response')}
              </a>
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
};

interface Forms {
  paper?: { values: Record<string, string>; errors: FieldErrors };
  import?: { values: Record<string, string>; errors: FieldErrors; report?: ImportReport };
  delivery?: { values: Record<string, string>; errors: FieldErrors };
  response?: { values: Record<string, string>; errors: FieldErrors };
  outcome?: { values: Record<string, string>; errors: FieldErrors };
  notice?: string;
}

const HandinPage = (p: { ctx: PageContext; petition: Petition; batches: PaperBatch[]; delivery: Delivery | null; canRecord: boolean; canExport: boolean; timeZone: string; forms: Forms }) => {
  const url = `${base(p.petition)}/handin`;
  const f = p.forms;
  const v = (form: keyof Omit<Forms, 'notice'>) => (f[form] as { values: Record<string, string> } | undefined)?.values ?? {};
  const e = (form: keyof Omit<Forms, 'notice'>) => (f[form] as { errors: FieldErrors } | undefined)?.errors ?? {};
  return (
    <Layout ctx={p.ctx} title={`Hand-in: ${p.petition.title}`}>
      <p>
        <a href={base(p.petition)}>← {p.petition.title}</a>
      </p>
      <h1>Hand-in and outcome</h1>
      {f.notice ? (
        <div class="banner banner-notice" role="alert">
          <p>{f.notice}</p>
        </div>
      ) : null}
      <SignatureTotals petition={p.petition} />

      <h2>Downloads</h2>
      <ul>
        {p.canExport ? (
          <>
            <li>
              <a href={`${base(p.petition)}/handin.pdf`}>Hand-in pack (PDF)</a>: cover page, endorsements and every signature by area — names the signer kept private
              are withheld, and no email address or full postcode is printed.
            </li>
            <li>
              <a href={`${base(p.petition)}/signatures.csv`}>Signers’ details (CSV)</a>
            </li>
          </>
        ) : null}
        <li>
          <a href={`/api/v1/petitions/${encodeURIComponent(p.petition.slug)}/summary.csv`}>Signatures by area (CSV, no personal data)</a>
        </li>
      </ul>
      {p.canExport ? (
        <p class="privacy-note">
          <strong>Privacy:</strong> the signers’ details are personal data. Use them only for this campaign, keep them safe, and delete them when the campaign
          is over. Every download is recorded.
        </p>
      ) : null}

      {p.canRecord ? (
        <>
          <h2>Paper signatures</h2>
          {p.batches.length ? (
            <ul>
              {p.batches.map((b) => (
                <li>
                  {formatNumber(b.count)} {b.source === 'import' ? 'imported' : 'counted'} — collected {formatDate(`${b.collected_on}T12:00:00Z`, p.timeZone)}
                  {b.place ? ` at ${b.place}` : ''}
                  {b.collected_by ? ` by ${b.collected_by}` : ''}
                  <form method="post" action={`${url}/paper/${b.id}/delete`} class="inline-action">
                    <CsrfField token={p.ctx.csrfToken} />
                    <button type="submit" class="button button-secondary">
                      Remove
                    </button>
                  </form>
                </li>
              ))}
            </ul>
          ) : (
            <p>None recorded yet.</p>
          )}
          <h3>Record a batch by count</h3>
          <ErrorSummary errors={prefixed(e('paper'), 'paper_')} labels={{ paper_count: 'Number of signatures', paper_collected_on: 'Collected on' }} />
          <form method="post" action={`${url}/paper`} novalidate>
            <CsrfField token={p.ctx.csrfToken} />
            <TextField name="paper_count" inputName="count" label="Number of signatures" inputmode="numeric" value={v('paper').count} error={e('paper').count} required />
            <TextField name="paper_collected_on" inputName="collected_on" label="Collected on" type="date" value={v('paper').collected_on} error={e('paper').collected_on} required />
            <TextField name="paper_place" inputName="place" label="Collected where (optional)" value={v('paper').place} maxlength={200} />
            <TextField name="paper_collected_by" inputName="collected_by" label="Collected by (optional)" value={v('paper').collected_by} maxlength={200} />
            <button type="submit" class="button button-secondary">
              Record paper signatures
            </button>
          </form>
          <h3>Import names from a CSV file</h3>
          <p class="hint">The first line names the columns: name, postcode, and optionally email and country. Rows that already signed online (same email) are flagged and not counted twice.</p>
          {f.import?.report ? (
            <div class="import-report" role="status">
              <p>
                <strong>{formatNumber(f.import.report.accepted)} imported.</strong> {formatNumber(f.import.report.rejected.length)} rejected,{' '}
                {formatNumber(f.import.report.duplicates.length)} already signed online.
              </p>
              {f.import.report.rejected.length ? (
                <ul>
                  {f.import.report.rejected.slice(0, 200).map((r) => (
                    <li>
                      Line {r.line}: {r.reason}
                    </li>
                  ))}
                </ul>
              ) : null}
              {f.import.report.duplicates.length ? (
                <ul>
                  {f.import.report.duplicates.slice(0, 200).map((d) => (
                    <li>
                      Line {d.line}: {d.email} already signed online
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
          <ErrorSummary errors={prefixed(e('import'), 'import_')} labels={{ import_file: 'CSV file', import_collected_on: 'Collected on' }} />
          <form method="post" action={`${url}/paper-import`} enctype="multipart/form-data" novalidate>
            <CsrfField token={p.ctx.csrfToken} />
            <div class={e('import').file ? 'field field-error' : 'field'}>
              <label for="f-import_file">CSV file</label>
              {e('import').file ? (
                <p class="error-message" id="f-import_file-error">
                  <span class="visually-hidden">Error:</span> {e('import').file}
                </p>
              ) : null}
              <input id="f-import_file" name="file" type="file" accept=".csv,text/csv" />
            </div>
            <TextField name="import_collected_on" inputName="collected_on" label="Sheets collected on" type="date" value={v('import').collected_on} error={e('import').collected_on} required />
            <TextField name="import_place" inputName="place" label="Sheets collected where (optional)" value={v('import').place} maxlength={200} />
            <button type="submit" class="button button-secondary">
              Import
            </button>
          </form>

          <h2>The hand-in</h2>
          {p.delivery ? (
            <>
              <p>
                Recorded: {formatDate(p.delivery.delivered_at, p.timeZone)} at {p.delivery.place}, to {p.delivery.recipient_name}.
              </p>
              <form method="post" action={`${url}/photo`} enctype="multipart/form-data" novalidate>
                <CsrfField token={p.ctx.csrfToken} />
                <div class="field">
                  <label for="f-photo">Add a photo</label>
                  <input id="f-photo" name="image" type="file" accept="image/png,image/jpeg,image/gif,image/webp" />
                </div>
                <TextField name="caption" label="Photo caption (optional)" maxlength={200} />
                <button type="submit" class="button button-secondary">
                  Add photo
                </button>
              </form>
            </>
          ) : (
            <>
              <ErrorSummary errors={e('delivery')} labels={{ delivered_at: 'When', place: 'Where', recipient_name: 'Received by', presented_by: 'Presented by' }} />
              <form method="post" action={`${url}/delivery`} novalidate>
                <CsrfField token={p.ctx.csrfToken} />
                <TextField name="delivered_at" label="When" hint="e.g. 2006-11-16" type="date" value={v('delivery').delivered_at} error={e('delivery').delivered_at} required />
                <TextField name="place" label="Where" hint="e.g. City Hall, Police Authority board meeting" value={v('delivery').place} error={e('delivery').place} required />
                <TextField name="recipient_name" label="Received by" hint="The person, e.g. the Mayor" value={v('delivery').recipient_name} error={e('delivery').recipient_name} required />
                <TextField name="recipient_body" label="On behalf of (optional)" hint="e.g. Metropolitan Police Authority" value={v('delivery').recipient_body} />
                <TextField name="presented_by" label="Presented by" value={v('delivery').presented_by} error={e('delivery').presented_by} required />
                <TextArea name="notes" label="Notes (optional)" rows={4} value={v('delivery').notes} />
                <button type="submit" class="button button-primary">
                  Record the hand-in
                </button>
              </form>
            </>
          )}

          <h2>The response</h2>
          <ErrorSummary errors={e('response')} labels={{ responder: 'Who responded', responded_on: 'Date', text: 'Response' }} />
          <form method="post" action={`${url}/response`} novalidate>
            <CsrfField token={p.ctx.csrfToken} />
            <TextField name="responder" label="Who responded" hint="e.g. Sir Ian Blair, Commissioner" value={v('response').responder} error={e('response').responder} required />
            <TextField name="responded_on" label="Date" type="date" value={v('response').responded_on} error={e('response').responded_on} required />
            <TextArea name="text" label="Response" rows={6} value={v('response').text} error={e('response').text} required />
            <TextField name="document_url" label="Link to the full response (optional)" type="url" value={v('response').document_url} error={e('response').document_url} />
            <Checkbox name="notify_signers" label="Email the response to signers who agreed to hear from the campaign" />
            <button type="submit" class="button button-secondary">
              Record the response
            </button>
          </form>

          <h2>The outcome</h2>
          <ErrorSummary errors={e('outcome')} labels={{ outcome: 'Outcome', summary: 'Summary' }} />
          <form method="post" action={`${url}/outcome`} novalidate>
            <CsrfField token={p.ctx.csrfToken} />
            <SelectField
              name="outcome"
              label="Outcome"
              value={v('outcome').outcome ?? p.petition.outcome?.result}
              options={OUTCOMES.map((o) => ({ value: o, label: OUTCOME_LABELS[o] }))}
              error={e('outcome').outcome}
            />
            <TextArea name="summary" label="Summary" rows={4} value={v('outcome').summary ?? p.petition.outcome?.summary ?? ''} error={e('outcome').summary} required />
            <Checkbox name="notify_signers" label="Tell signers who agreed to hear from the campaign" />
            <button type="submit" class="button button-primary">
              Record the outcome
            </button>
          </form>
        </>
      ) : null}
    </Layout>
  );
};

export function registerHandinPages(app: FastifyInstance, ctx: AppContext): void {
  const { handin, petitions } = ctx.services;

  const show = async (request: FastifyRequest, reply: FastifyReply, user: User, slug: string, forms: Forms = {}, status = 200) => {
    const { petition, batches } = await handin.listPaper(user, slug);
    const view = await petitions.viewFor(slug, user);
    const { delivery } = await handin.publicRecord(petition);
    const page = (
      <HandinPage
        ctx={await pageContext(ctx, request, reply)}
        petition={petition}
        batches={batches}
        delivery={delivery}
        canRecord={petitions.can(view, 'record_handin')}
        canExport={petitions.can(view, 'export')}
        timeZone={ctx.config.timeZone}
        forms={forms}
      />
    );
    return sendPage(reply.header('cache-control', 'private, no-store'), page, status);
  };

  app.get('/petitions/:slug/handin', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    return show(request, reply, user, (request.params as { slug: string }).slug);
  });

  /** A hand-in form: on success back to the page, on invalid input the page with errors next to the fields. */
  const form = (name: keyof Omit<Forms, 'notice' | 'import'>, path: string, run: (user: User, slug: string, fields: Record<string, string>, image: Buffer | null) => Promise<unknown>) =>
    app.post(`/petitions/:slug/handin/${path}`, { config: { csrf: true } }, async (request, reply) => {
      const user = requirePageUser(request, reply);
      if (!user) return reply;
      const { slug } = request.params as { slug: string };
      const { fields, image } = formParts(request.body);
      try {
        await run(user, slug, fields, image);
        return reply.redirect(`/petitions/${encodeURIComponent(slug)}/handin`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || (err.status !== 422 && err.status !== 409)) throw err;
        return show(request, reply, user, slug, { [name]: { values: fields, errors: err.fields }, notice: err.status === 409 ? err.message : undefined }, err.status);
      }
    });

  form('paper', 'paper', (user, slug, fields) => handin.recordPaperBatch(user, slug, fields));
  form('delivery', 'delivery', (user, slug, fields) => handin.recordDelivery(user, slug, fields));
  form('response', 'response', (user, slug, fields) => handin.recordResponse(user, slug, fields));
  form('outcome', 'outcome', (user, slug, fields) => handin.recordOutcome(user, slug, fields));
  form('delivery', 'photo', async (user, slug, fields, image) => {
    // Who may add photos is decided before what was sent is looked at.
    await petitions.requireAction(user, slug, 'record_handin');
    if (!image) throw new AppError('validation_failed', 'Choose a photo to upload', { field: 'photo' });
    await handin.addDeliveryPhoto(user, slug, image, fields.caption || null);
  });

  app.post('/petitions/:slug/handin/paper/:id/delete', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug, id } = request.params as { slug: string; id: string };
    await handin.deletePaperBatch(user, slug, Number(id) || 0);
    return reply.redirect(`/petitions/${encodeURIComponent(slug)}/handin`, 303);
  });

  app.post('/petitions/:slug/handin/paper-import', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const { fields, image: file } = formParts(request.body, 'file');
    await petitions.requireAction(user, slug, 'record_handin');
    try {
      if (!file) throw new AppError('validation_failed', 'Choose a CSV file to import', { field: 'file' });
      const report = await handin.importPaperCsv(user, slug, file.toString('utf8'), fields);
      return show(request, reply, user, slug, { import: { values: {}, errors: {}, report } });
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 422) throw err;
      return show(request, reply, user, slug, { import: { values: fields, errors: err.fields } }, 422);
    }
  });
}
