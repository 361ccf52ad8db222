import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import {
  CsrfField,
  ErrorSummary,
  formatDate,
  formatNumber,
  Paragraphs,
  SignatureProgress,
  TextArea,
  TextField,
} from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import { ShareLinks } from '../../views/share.tsx';
import { requirePageUser } from '../auth/auth.plugin.ts';
import { SignForm, type SignFormValues } from '../signatures/sign-form.tsx';
import type { Petition } from './petitions.service.ts';

const PETITION_FORM_LABELS: Record<string, string> = {
  title: 'Title',
  action: 'What are you asking for?',
  background: 'Why does it matter?',
  'target.name': 'Name of the decision-maker',
  'target.role': 'Their role',
  'target.organisation': 'Their organisation',
  deadline: 'Deadline',
  goal: 'Signature goal',
};

type PetitionFormValues = Partial<Record<string, string>>;

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

const NewPetitionPage = (p: { ctx: PageContext; values: PetitionFormValues; errors: FieldErrors }) => (
  <Layout ctx={p.ctx} title="Start a petition">
    <h1>Start a petition</h1>
    <p>Say clearly what you want to happen and who can make it happen. You can open it for signatures once it is saved.</p>
    <ErrorSummary errors={p.errors} labels={PETITION_FORM_LABELS} />
    <form method="post" action="/petitions" novalidate>
      <CsrfField token={p.ctx.csrfToken} />
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
        Save petition
      </button>
    </form>
  </Layout>
);

export interface PetitionPageOptions {
  signValues?: SignFormValues;
  signErrors?: FieldErrors;
  notice?: string;
  status?: number;
}

function targetLine(t: Petition['target']): string {
  return [t.name, t.role, t.organisation].filter(Boolean).join(', ');
}

function daysLeft(deadline: string, now: Date): number {
  return Math.max(0, Math.ceil((Date.parse(deadline) - now.getTime()) / 86_400_000));
}

const PetitionPage = (p: {
  ctx: PageContext;
  petition: Petition;
  url: string;
  timeZone: string;
  now: Date;
  canManage: boolean;
  acceptsSignatures: boolean;
  options: PetitionPageOptions;
}) => {
  const { petition, options } = p;
  return (
    <Layout ctx={p.ctx} title={petition.title} description={petition.action.slice(0, 200)} canonicalUrl={p.url}>
      {petition.state === 'draft' ? (
        <div class="banner banner-draft" role="status">
          <p>
            <strong>Draft.</strong> Only you and the site’s administrators can see this petition.
          </p>
          {p.canManage ? (
            <form method="post" action={`/petitions/${encodeURIComponent(petition.slug)}/open`}>
              <CsrfField token={p.ctx.csrfToken} />
              <button type="submit" class="button button-primary">
                Open for signatures
              </button>
            </form>
          ) : null}
        </div>
      ) : null}
      {petition.state === 'closed' ? (
        <div class="banner banner-closed" role="status">
          <p>
            <strong>This petition is closed.</strong>{' '}
            {petition.closedAt || petition.deadline ? `It closed on ${formatDate((petition.closedAt ?? petition.deadline)!, p.timeZone)}. ` : ''}
            It no longer accepts signatures.
          </p>
        </div>
      ) : null}
      {options.notice ? (
        <div class="banner banner-notice" role="alert">
          <p>{options.notice}</p>
        </div>
      ) : null}
      <article class="petition">
        <p class="petition-kicker">Petition to {targetLine(petition.target)}</p>
        <h1>{petition.title}</h1>
        <div class="petition-layout">
          <div class="petition-body">
            <section aria-labelledby="action-title">
              <h2 id="action-title">What we are asking for</h2>
              <div class="petition-action">
                <Paragraphs text={petition.action} />
              </div>
            </section>
            <section aria-labelledby="background-title">
              <h2 id="background-title">Why it matters</h2>
              <Paragraphs text={petition.background} />
            </section>
          </div>
          <aside class="petition-side" aria-label="Signatures">
            <SignatureProgress count={petition.signatureCount} goal={petition.goal} />
            {petition.state === 'open' && petition.deadline ? (
              <p class="deadline">
                Open until {formatDate(petition.deadline, p.timeZone)} ({formatNumber(daysLeft(petition.deadline, p.now))}{' '}
                {daysLeft(petition.deadline, p.now) === 1 ? 'day' : 'days'} left)
              </p>
            ) : null}
            {petition.openedAt ? <p class="meta">Opened on {formatDate(petition.openedAt, p.timeZone)}</p> : null}
            {p.acceptsSignatures ? (
              <p class="jump-to-sign">
                <a class="button button-primary" href="#sign-title">
                  Sign this petition
                </a>
              </p>
            ) : null}
            {p.canManage && petition.state === 'open' ? (
              <form method="post" action={`/petitions/${encodeURIComponent(petition.slug)}/close`} class="manage-form">
                <CsrfField token={p.ctx.csrfToken} />
                <button type="submit" class="button button-secondary">
                  Close petition now
                </button>
              </form>
            ) : null}
          </aside>
        </div>
        {p.acceptsSignatures ? (
          <SignForm slug={petition.slug} csrfToken={p.ctx.csrfToken} values={options.signValues ?? {}} errors={options.signErrors ?? {}} />
        ) : null}
        {petition.state !== 'draft' ? <ShareLinks url={p.url} title={petition.title} /> : null}
      </article>
    </Layout>
  );
};

/** Renders a petition's public page, optionally with the sign form's errors and values. */
export async function renderPetitionPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  petition: Petition,
  options: PetitionPageOptions = {},
): Promise<FastifyReply> {
  const petitions = ctx.services.petitions;
  if (petition.state === 'draft') reply.header('x-robots-tag', 'noindex');
  const page = PetitionPage({
    ctx: await pageContext(ctx, request, reply),
    petition,
    url: petitions.urlFor(petition),
    timeZone: ctx.config.timeZone,
    now: ctx.clock(),
    canManage: petitions.canManage(request.user, petition),
    acceptsSignatures: petitions.acceptsSignatures(petition),
    options,
  });
  return sendPage(reply, page, options.status ?? 200);
}

const AccountPage = (p: { ctx: PageContext; petitions: Petition[]; timeZone: string }) => (
  <Layout ctx={p.ctx} title="My petitions">
    <h1>My petitions</h1>
    <p>
      <a class="button button-primary" href="/petitions/new">
        Start a petition
      </a>
    </p>
    {p.petitions.length === 0 ? (
      <p>You have not started a petition yet.</p>
    ) : (
      <table class="table">
        <caption class="visually-hidden">Your petitions</caption>
        <thead>
          <tr>
            <th scope="col">Petition</th>
            <th scope="col">State</th>
            <th scope="col" class="num">
              Signatures
            </th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {p.petitions.map((petition) => (
            <tr>
              <td>
                <a href={`/petitions/${encodeURIComponent(petition.slug)}`}>{petition.title}</a>
              </td>
              <td>{petition.state}</td>
              <td class="num">{formatNumber(petition.signatureCount)}</td>
              <td>{formatDate(petition.createdAt, p.timeZone)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);

export function registerPetitionPages(app: FastifyInstance, ctx: AppContext): void {
  const petitions = ctx.services.petitions;

  app.get('/petitions/new', async (request, reply) => {
    if (!requirePageUser(request, reply)) return reply;
    return sendPage(reply, NewPetitionPage({ ctx: await pageContext(ctx, request, reply), values: {}, errors: {} }));
  });

  app.post('/petitions', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const petition = await petitions.createPetition(user, petitionInputFromForm(body));
      return reply.redirect(`/petitions/${encodeURIComponent(petition.slug)}`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const values = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as PetitionFormValues;
      return sendPage(reply, NewPetitionPage({ ctx: await pageContext(ctx, request, reply), values, errors: err.fields }), 422);
    }
  });

  app.get('/petitions/:slug', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const petition = await petitions.getForViewer(slug, request.user);
    return renderPetitionPage(ctx, request, reply, petition);
  });

  for (const action of ['open', 'close'] as const) {
    app.post(`/petitions/:slug/${action}`, { config: { csrf: true } }, async (request, reply) => {
      const user = requirePageUser(request, reply);
      if (!user) return reply;
      const { slug } = request.params as { slug: string };
      try {
        const petition = action === 'open' ? await petitions.openPetition(user, slug) : await petitions.closePetition(user, slug);
        return reply.redirect(`/petitions/${encodeURIComponent(petition.slug)}`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 404 || err.status === 403) throw err;
        const petition = await petitions.getForViewer(slug, user);
        return renderPetitionPage(ctx, request, reply, petition, { notice: err.message, status: err.status });
      }
    });
  }

  app.get('/account', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const mine = await petitions.listOwnedBy(user);
    return sendPage(reply, AccountPage({ ctx: await pageContext(ctx, request, reply), petitions: mine, timeZone: ctx.config.timeZone }));
  });
}
