import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { WhereSignersAre } from '../stats/where-signers-are.tsx';
import { defaultAreaKind, type AreaKind, type PetitionStats } from '../stats/stats.service.ts';
import { AppError, type FieldErrors } from '../../lib/errors.ts';
import { CsrfField, formatDate, formatNumber, Paragraphs, SelectField, SignatureProgress, TextArea, TextField } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { CSRF_PLACEHOLDER, pageContext } from '../../views/pages.tsx';
import { currentLanguage, t, translateMessage } from '../../i18n/i18n.ts';
import { openInPetitionLanguage, petitionText, rejectionLabel } from './petition-text.ts';
import { localisedPageKey, PageTemplate } from '../../views/page-cache.ts';
import { renderTemplate, sendPage, sendTemplate } from '../../views/render.ts';
import { ShareLinks } from '../../views/share.tsx';
import { requirePageUser } from '../auth/auth.plugin.ts';
import { SignForm, type SignFormValues } from '../signatures/sign-form.tsx';
import type { User } from '../users/users.service.ts';
import type { PetitionAction } from './petition-policy.ts';
import { formValuesOf, PetitionForm, petitionInputFromForm, typedValues, type PetitionFormValues } from './petition-form.tsx';
import type { Petition, PetitionView } from './petitions.service.ts';
import { UpdatesSection } from '../updates/updates.pages.tsx';
import type { Endorsement } from '../endorsements/endorsements.repository.ts';
import { nextGoal, type Milestone } from '../milestones/milestones.ts';
import type { PressLink } from '../press/press.repository.ts';
import { InTheNews, SupportedBy, Thresholds, Timeline } from './campaign-sections.tsx';
import { HandinRecord, SignatureTotals } from '../handin/handin.pages.tsx';
import type { Delivery, Response } from '../handin/handin.repository.ts';
import type { UpdateWithEmail } from '../updates/updates.service.ts';

const FORM_STARTED_PLACEHOLDER = '__undersign_form_started__';

export interface PetitionPageOptions {
  /** Keep the rendered page in the public page cache under this key (visitors not signed in). */
  cacheAs?: string | undefined;
  /** Set when the visitor came through the private supporters' link of a submitted petition. */
  supportToken?: string;
  signValues?: SignFormValues;
  signErrors?: FieldErrors;
  notice?: string;
  status?: number;
}

function targetLine(t: Petition['target']): string {
  return [t.name, t.role, t.organisation].filter(Boolean).join(', ');
}

/** "3 days left", "closes today". */
export function timeLeft(deadline: string, now: Date): string {
  const days = Math.ceil((Date.parse(deadline) - now.getTime()) / 86_400_000);
  if (days <= 1) return t('petition.closes_today');
  return t('petition.days_left', { count: days, days: formatNumber(days) });
}

const path = (petition: Pick<Petition, 'slug'>, suffix = '') => `/petitions/${encodeURIComponent(petition.slug)}${suffix}`;

/** A one-button form that posts to one of the petition's action routes. */
const ActionButton = (p: { petition: Petition; action: string; label: string; csrf: string; kind?: 'primary' | 'secondary' }) => (
  <form method="post" action={path(p.petition, `/${p.action}`)} class="inline-action">
    <CsrfField token={p.csrf} />
    <button type="submit" class={`button button-${p.kind ?? 'secondary'}`}>
      {p.label}
    </button>
  </form>
);

const StateBanner = (p: {
  petition: Petition;
  timeZone: string;
  may: (a: PetitionAction) => boolean;
  csrf: string;
  moderation: boolean;
  supporters: { required: number; url: string | null; visitor: boolean };
}) => {
  const { petition } = p;
  switch (petition.state) {
    case 'draft':
      return (
        <div class="banner banner-draft" role="status">
          <p>
            <strong>{t('petition.banner.draft')}</strong> {t('petition.banner.draft_detail')}
          </p>
          <div class="actions">
            {p.may('edit') ? (
              <a class="button button-secondary" href={path(petition, '/edit')}>
                {t('petition.team.edit')}
              </a>
            ) : null}
            {p.may('submit') && p.moderation ? <ActionButton petition={petition} action="submit" label={t('petition.banner.submit')} csrf={p.csrf} kind="primary" /> : null}
            {p.may('open') ? <ActionButton petition={petition} action="open" label={t('petition.banner.open')} csrf={p.csrf} kind="primary" /> : null}
          </div>
        </div>
      );
    case 'pending': {
      const { required, url, visitor } = p.supporters;
      if (visitor) {
        return (
          <div class="banner banner-draft" role="status">
            <p>
              <strong>{t('petition.banner.asked_to_support')}</strong> {t('petition.banner.needs_supporters', { count: required, required: formatNumber(required) })}
            </p>
          </div>
        );
      }
      const gathering = required > 0 && petition.signatureCount < required;
      return (
        <div class="banner banner-draft" role="status">
          <p>
            <strong>{gathering ? t('petition.banner.gathering') : t('petition.banner.waiting')}</strong>{' '}
            {t('petition.banner.submitted_on', { date: formatDate(petition.submittedAt ?? petition.updatedAt, p.timeZone) })}{' '}
            {gathering
              ? t('petition.banner.has_supporters', { count: required, has: formatNumber(petition.signatureCount), required: formatNumber(required) })
              : t('petition.banner.moderator_checks')}
          </p>
          {gathering && url ? (
            <p>
              {t('petition.banner.share_private_link')} <input class="copy-link" type="text" readonly value={url} aria-label={t('petition.banner.supporters_link')} />
            </p>
          ) : null}
        </div>
      );
    }
    case 'rejected':
      return (
        <div class="banner banner-closed" role="status">
          <p>
            <strong>{t('petition.banner.rejected')}</strong>{' '}
            {petition.rejection ? <RejectionLabel rejection={petition.rejection} /> : ''}.
          </p>
          {petition.rejection?.details ? <p>{petition.rejection.details}</p> : null}
          {p.may('edit') ? (
            <div class="actions">
              <a class="button button-secondary" href={path(petition, '/edit')}>
                {t('petition.team.edit')}
              </a>
              {p.may('submit') ? <ActionButton petition={petition} action="submit" label={t('petition.banner.submit_again')} csrf={p.csrf} kind="primary" /> : null}
            </div>
          ) : null}
        </div>
      );
    case 'closed':
      return (
        <div class="banner banner-closed" role="status">
          <p>
            <strong>{t('petition.banner.closed')}</strong>{' '}
            {petition.closedAt || petition.deadline ? `${t('petition.banner.closed_on', { date: formatDate((petition.closedAt ?? petition.deadline)!, p.timeZone) })} ` : ''}
            {t('petition.banner.no_more_signatures')}
          </p>
        </div>
      );
    case 'delivered':
      return (
        <div class="banner banner-closed" role="status">
          <p>
            <strong>{t('petition.banner.delivered')}</strong>{' '}
            {petition.deliveredAt ? `${t('petition.banner.delivered_on', { date: formatDate(petition.deliveredAt, p.timeZone) })} ` : ''}
            {t('petition.banner.no_more_signatures')}
          </p>
        </div>
      );
    case 'open':
      return null;
  }
};

/** What moderators can do to a petition: publish or reject a pending one, correct, hide, close. */
const ModeratorPanel = (p: { petition: Petition; may: (a: PetitionAction) => boolean; csrf: string; reasons: Record<string, string> }) => {
  const { petition } = p;
  if (!p.may('moderate_edit')) return null;
  return (
    <section class="panel" aria-labelledby="moderation-title">
      <h2 id="moderation-title">{t('petition.moderation.heading')}</h2>
      {petition.hidden ? (
        <p>
          <strong>{t('petition.moderation.hidden')}</strong>: {petition.hiddenReason}
        </p>
      ) : null}
      {petition.state === 'pending' ? (
        <>
          <ActionButton petition={petition} action="publish" label={t('petition.moderation.publish')} csrf={p.csrf} kind="primary" />
          <form method="post" action={path(petition, '/reject')} class="reject-form">
            <CsrfField token={p.csrf} />
            <SelectField
              name="reason"
              label={t('petition.moderation.reason')}
              options={[{ value: '', label: t('petition.moderation.choose_reason') }, ...Object.entries(p.reasons).map(([value, label]) => ({ value, label }))]}
            />
            <TextArea name="details" label={t('petition.moderation.details')} rows={3} maxlength={2000} />
            <button type="submit" class="button button-secondary">
              {t('petition.moderation.reject')}
            </button>
          </form>
        </>
      ) : null}
      <div class="actions">
        <a class="button button-secondary" href={path(petition, '/edit')}>
          {t('petition.moderation.correct')}
        </a>
        {p.may('review_fraud') && petition.state !== 'draft' ? (
          <a class="button button-secondary" href={path(petition, '/fraud')}>
            {t('petition.moderation.review_signatures')}
          </a>
        ) : null}
        {petition.state === 'open' ? <ActionButton petition={petition} action="close" label={t('petition.moderation.close_now')} csrf={p.csrf} /> : null}
        {petition.hidden ? <ActionButton petition={petition} action="unhide" label={t('petition.moderation.unhide')} csrf={p.csrf} /> : null}
      </div>
      {petition.hidden ? null : (
        <form method="post" action={path(petition, '/hide')} class="hide-form">
          <CsrfField token={p.csrf} />
          <TextField name="reason" label={t('petition.moderation.hide_reason')} maxlength={300} />
          <button type="submit" class="button button-secondary">
            {t('petition.moderation.hide')}
          </button>
        </form>
      )}
    </section>
  );
};

/** Links for the petition's own team. */
const TeamPanel = (p: { petition: Petition; may: (a: PetitionAction) => boolean; csrf: string }) => {
  if (!p.may('view_team') || p.may('moderate_edit')) return null;
  return (
    <section class="panel" aria-labelledby="team-title">
      <h2 id="team-title">{t('petition.team.heading')}</h2>
      <div class="actions">
        <a class="button button-secondary" href={path(p.petition, '/team')}>
          {t('petition.team.team')}
        </a>
        {p.may('manage_team') ? (
          <a class="button button-secondary" href={path(p.petition, '/webhooks')}>
            {t('petition.team.webhooks')}
          </a>
        ) : null}
        {p.may('edit') ? (
          <a class="button button-secondary" href={path(p.petition, '/edit')}>
            {t('petition.team.edit')}
          </a>
        ) : null}
        {p.may('campaign') && (p.petition.state === 'open' || p.petition.state === 'closed' || p.petition.state === 'delivered') ? (
          <>
            <a class="button button-secondary" href={path(p.petition, '/thanks')}>
              {t('petition.team.thank')}
            </a>
            <a class="button button-secondary" href={path(p.petition, '/handin')}>
              {t('petition.team.handin')}
            </a>
          </>
        ) : p.may('export_summary') && p.petition.state !== 'draft' ? (
          <a class="button button-secondary" href={path(p.petition, '/handin')}>
            {t('petition.team.downloads')}
          </a>
        ) : null}
        {p.petition.state === 'open' && p.may('close') ? <ActionButton petition={p.petition} action="close" label={t('petition.team.close')} csrf={p.csrf} /> : null}
      </div>
    </section>
  );
};

const PetitionPage = (p: {
  ctx: PageContext;
  view: PetitionView;
  may: (a: PetitionAction) => boolean;
  url: string;
  timeZone: string;
  now: Date;
  acceptsSignatures: boolean;
  moderation: boolean;
  reasons: Record<string, string>;
  supporters: { required: number; url: string | null; visitor: boolean };
  updates: UpdateWithEmail[];
  thresholds: { response: number; debate: number };
  formStarted: string;
  challenge: { challenge: string; bits: number } | null;
  campaign: { endorsements: Endorsement[]; press: PressLink[]; milestones: Milestone[]; handin: { delivery: Delivery | null; response: Response | null } };
  where: { stats: PetitionStats; kind: AreaKind; map: boolean } | null;
  options: PetitionPageOptions;
}) => {
  const { petition } = p.view;
  const { options } = p;
  const csrf = p.ctx.csrfToken;
  const text = petitionText(petition);
  // The petition's words in a language other than the page's are marked so (screen readers switch voice).
  const textLang = text.language === currentLanguage() ? undefined : text.language;
  return (
    <Layout
      ctx={p.ctx}
      title={text.title}
      description={text.action.slice(0, 200)}
      canonicalUrl={p.url}
      imageUrl={petition.state === 'open' || petition.state === 'closed' || petition.state === 'delivered' ? `${p.url}/card.png` : undefined}
      scripts={petition.state === 'open' && !petition.hidden ? ['/static/live-count.js', ...(p.challenge ? ['/static/proof-of-work.js'] : [])] : undefined}
    >
      <StateBanner petition={petition} timeZone={p.timeZone} may={p.may} csrf={csrf} moderation={p.moderation} supporters={p.supporters} />
      {options.notice ? (
        <div class="banner banner-notice" role="alert">
          <p>{translateMessage(options.notice)}</p>
        </div>
      ) : null}
      <article class="petition">
        <p class="petition-kicker">{t('petition.petition_to', { target: targetLine(petition.target) })}</p>
        <h1 lang={textLang}>{text.title}</h1>
        <div class="petition-layout">
          <div class="petition-body">
            <section aria-labelledby="action-title">
              <h2 id="action-title">{t('petition.asking_for')}</h2>
              <div class="petition-action" lang={textLang}>
                <Paragraphs text={text.action} />
              </div>
            </section>
            <section aria-labelledby="background-title">
              <h2 id="background-title">{t('petition.why_it_matters')}</h2>
              <div lang={textLang}>
                <Paragraphs text={text.background} />
              </div>
            </section>
          </div>
          <aside class="petition-side" aria-label={t('petition.signatures')}>
            <SignatureProgress
              live={petition.state === 'open' && !petition.hidden ? path(petition, '/live') : undefined}
              count={petition.signatureCount}
              goal={petition.goal && petition.signatureCount >= petition.goal ? nextGoal(petition.signatureCount) : petition.goal}
              originalGoal={petition.goal}
            />
            {petition.state === 'open' && petition.deadline ? (
              <p class="deadline">
                {t('petition.open_until', { date: formatDate(petition.deadline, p.timeZone), left: timeLeft(petition.deadline, p.now) })}
              </p>
            ) : null}
            <SignatureTotals petition={petition} />
            <Thresholds
              petition={petition}
              milestones={p.campaign.milestones}
              responseAt={p.thresholds.response}
              debateAt={p.thresholds.debate}
              hasResponse={!!p.campaign.handin.response}
            />
            {petition.outcome?.result === 'won' ? <p class="victory-badge">{t('petition.victory')}</p> : null}
            {petition.openedAt ? <p class="meta">{t('petition.opened_on', { date: formatDate(petition.openedAt, p.timeZone) })}</p> : null}
            {petition.signatureCount > 0 ? (
              <p class="meta">
                <a href={path(petition, '/stats')}>{t('petition.where_and_when')}</a>
              </p>
            ) : null}
            {p.acceptsSignatures ? (
              <p class="jump-to-sign">
                <a class="button button-primary" href="#sign-title">
                  {t('sign.sign_button')}
                </a>
              </p>
            ) : null}
          </aside>
        </div>
        <TeamPanel petition={petition} may={p.may} csrf={csrf} />
        <ModeratorPanel petition={petition} may={p.may} csrf={csrf} reasons={p.reasons} />
        {p.acceptsSignatures ? (
          <SignForm
            slug={petition.slug}
            csrfToken={csrf}
            values={options.signValues ?? {}}
            errors={options.signErrors ?? {}}
            supportToken={options.supportToken}
            formStarted={p.formStarted}
            challenge={p.challenge}
          />
        ) : null}
        {p.where ? <WhereSignersAre slug={petition.slug} stats={p.where.stats} kind={p.where.kind} map={p.where.map} /> : null}
        <HandinRecord petition={petition} delivery={p.campaign.handin.delivery} response={p.campaign.handin.response} timeZone={p.timeZone} />
        <UpdatesSection petition={petition} updates={p.updates} canPost={p.may('campaign') && (petition.state === 'open' || petition.state === 'closed')} timeZone={p.timeZone} />
        <SupportedBy petition={petition} endorsements={p.campaign.endorsements} canManage={p.may('campaign')} />
        <InTheNews petition={petition} links={p.campaign.press} canManage={p.may('campaign')} timeZone={p.timeZone} />
        <Timeline petition={petition} milestones={p.campaign.milestones} updates={p.updates} endorsements={p.campaign.endorsements} press={p.campaign.press} timeZone={p.timeZone} />
        {petition.state === 'open' || petition.state === 'closed' || petition.state === 'delivered' ? <ShareLinks url={p.url} title={text.title} /> : null}
      </article>
    </Layout>
  );
};

/** Renders a petition's page for whoever is looking, optionally with the sign form's errors and values. */
export async function renderPetitionPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  view: PetitionView,
  options: PetitionPageOptions = {},
): Promise<FastifyReply> {
  const petitions = ctx.services.petitions;
  const { petition } = view;
  openInPetitionLanguage(request, petition);
  if (petition.state === 'draft' || petition.state === 'pending' || petition.hidden) reply.header('x-robots-tag', 'noindex');
  if (view.actor) reply.header('cache-control', 'private, no-store');
  // Independent reads: on PostgreSQL they run side by side on the pool.
  const showsWhere = petition.signatureCount > 0 && (petition.state === 'open' || petition.state === 'closed' || petition.state === 'delivered');
  const [updates, endorsements, press, milestones, handin, stats, mapKinds] = await Promise.all([
    ctx.services.updates.forPetition(petition),
    ctx.services.endorsements.publicList(petition),
    ctx.services.press.list(petition),
    ctx.services.milestones.list(petition),
    ctx.services.handin.publicRecord(petition),
    showsWhere ? ctx.services.stats.forPetition(petition) : null,
    showsWhere ? ctx.services.maps.available() : [],
  ]);
  const whereKind = stats ? defaultAreaKind(stats) : 'postcode_area';
  const challenge = ctx.services.signatures.issueChallenge();
  // A public page for a visitor who is not signed in is kept for a moment (see PublicPageCache),
  // with placeholders where each visitor's own tokens go.
  const cacheable = !!options.cacheAs && !view.actor && !challenge && (petition.state === 'open' || petition.state === 'closed' || petition.state === 'delivered') && !petition.hidden;
  const page = (
    <PetitionPage
      ctx={await pageContext(ctx, request, reply, cacheable ? { csrfToken: CSRF_PLACEHOLDER, path: path(petition) } : {})}
      view={view}
      may={(action) => petitions.can(view, action)}
      url={petitions.urlFor(petition)}
      timeZone={ctx.config.timeZone}
      now={ctx.clock()}
      acceptsSignatures={!petition.hidden && (petitions.acceptsSignatures(petition) || (!!options.supportToken && petitions.collectsSupporters(petition)))}
      moderation={ctx.config.moderation}
      reasons={ctx.config.rejectionReasons}
      supporters={{
        required: ctx.config.supportersRequired,
        url: petitions.can(view, 'view_team') && petitions.collectsSupporters(petition) ? petitions.supporterUrl(petition) : null,
        visitor: !!options.supportToken,
      }}
      updates={updates}
      thresholds={{ response: ctx.config.responseThreshold, debate: ctx.config.debateThreshold }}
      formStarted={cacheable ? FORM_STARTED_PLACEHOLDER : ctx.services.signatures.formStartedToken()}
      challenge={challenge}
      campaign={{ endorsements, press, milestones, handin }}
      where={stats ? { stats, kind: whereKind, map: (mapKinds as string[]).includes(whereKind) } : null}
      options={options}
    />
  );
  if (cacheable) {
    const template = renderTemplate(request, page, [CSRF_PLACEHOLDER, FORM_STARTED_PLACEHOLDER]);
    ctx.services.pageCache.set(options.cacheAs!, template);
    return sendCachedPage(ctx, reply, template);
  }
  return sendPage(reply, page, options.status ?? 200);
}

/** Sends a cached public page with this visitor's own CSRF token and form timer filled in. */
function sendCachedPage(ctx: AppContext, reply: FastifyReply, template: PageTemplate): FastifyReply {
  return sendTemplate(reply, template, { [CSRF_PLACEHOLDER]: reply.generateCsrf(), [FORM_STARTED_PLACEHOLDER]: ctx.services.signatures.formStartedToken() });
}

const FormPage = (p: { ctx: PageContext; title: string; intro: string; action: string; values: PetitionFormValues; errors: FieldErrors; submitLabel: string; back?: string }) => (
  <Layout ctx={p.ctx} title={p.title}>
    {p.back ? (
      <p>
        <a href={p.back}>← {t('petition.back')}</a>
      </p>
    ) : null}
    <h1>{p.title}</h1>
    <p>{p.intro}</p>
    <PetitionForm action={p.action} csrfToken={p.ctx.csrfToken} values={p.values} errors={p.errors} submitLabel={p.submitLabel} language={currentLanguage()} />
  </Layout>
);

const AccountPage = (p: { ctx: PageContext; user: User; petitions: (Petition & { memberRole: string })[]; timeZone: string }) => (
  <Layout ctx={p.ctx} title={t('layout.my_petitions')}>
    <h1>{t('layout.my_petitions')}</h1>
    <p>
      <a class="button button-primary" href="/petitions/new">
        {t('layout.start_petition')}
      </a>
    </p>
    {p.petitions.length === 0 ? (
      <p>{t('account.none')}</p>
    ) : (
      <table class="table">
        <caption class="visually-hidden">{t('account.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('account.petition')}</th>
            <th scope="col">{t('account.state')}</th>
            <th scope="col">{t('account.role')}</th>
            <th scope="col" class="num">
              {t('petition.signatures')}
            </th>
            <th scope="col">{t('account.created')}</th>
          </tr>
        </thead>
        <tbody>
          {p.petitions.map((petition) => (
            <tr>
              <td>
                <a href={path(petition)}>{petitionText(petition).title}</a>
              </td>
              <td>{t(`states.${petition.state}`)}</td>
              <td>{t(`roles.${petition.memberRole}`)}</td>
              <td class="num">{formatNumber(petition.signatureCount)}</td>
              <td>{formatDate(petition.createdAt, p.timeZone)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    <h2>{t('account.your_account')}</h2>
    <p>{t('account.signed_in_as', { name: p.user.name, email: p.user.email })}</p>
    <form method="post" action="/account/sign-out-everywhere">
      <CsrfField token={p.ctx.csrfToken} />
      <button type="submit" class="button button-secondary">
        {t('account.sign_out_everywhere')}
      </button>
    </form>
  </Layout>
);

/** The petition routes that take a one-button form post, and the service method each calls. */
const SIMPLE_ACTIONS = {
  submit: (ctx: AppContext, user: User, slug: string) => ctx.services.petitions.submitPetition(user, slug),
  open: (ctx: AppContext, user: User, slug: string) => ctx.services.petitions.openPetition(user, slug),
  publish: (ctx: AppContext, user: User, slug: string) => ctx.services.petitions.publishPetition(user, slug),
  close: (ctx: AppContext, user: User, slug: string) => ctx.services.petitions.closePetition(user, slug),
  unhide: (ctx: AppContext, user: User, slug: string) => ctx.services.petitions.setHidden(user, slug, false),
} as const;

export function registerPetitionPages(app: FastifyInstance, ctx: AppContext): void {
  const petitions = ctx.services.petitions;

  /**
   * Runs a petition action for a signed-in user and returns to the petition page; a refusal the
   * user can act on (wrong state, invalid input) is shown on the page rather than as an error page.
   */
  const runAction = async (request: FastifyRequest, reply: FastifyReply, run: (user: User, slug: string) => Promise<Petition>) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    try {
      const petition = await run(user, slug);
      return reply.redirect(path(petition), 303);
    } catch (err) {
      if (!(err instanceof AppError) || (err.status !== 409 && err.status !== 422)) throw err;
      const view = await petitions.viewFor(slug, user);
      return renderPetitionPage(ctx, request, reply, view, { notice: err.message, status: err.status });
    }
  };

  app.get('/petitions/new', async (request, reply) => {
    if (!requirePageUser(request, reply)) return reply;
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => FormPage({
      ctx: pageCtx,
      title: t('layout.start_petition'),
      intro: ctx.config.moderation ? t('petition_form.intro_moderated') : t('petition_form.intro'),
      action: '/petitions',
      values: {},
      errors: {},
      submitLabel: t('petition_form.save_draft'),
    });
    return sendPage(reply, page);
  });

  app.post('/petitions', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const petition = await petitions.createPetition(user, petitionInputFromForm(body));
      return reply.redirect(path(petition), 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const pageCtx = await pageContext(ctx, request, reply);
      const page = () => FormPage({
        ctx: pageCtx,
        title: t('layout.start_petition'),
        intro: t('petition_form.check_fields'),
        action: '/petitions',
        values: typedValues(body),
        errors: err.fields,
        submitLabel: t('petition_form.save_draft'),
      });
      return sendPage(reply, page, 422);
    }
  });

  app.get('/petitions/:slug', async (request, reply) => {
    const { slug } = request.params as { slug: string };
    // Visitors who are not signed in all see the same page: serve it from the short-lived cache.
    const key = localisedPageKey(request, slug);
    const cached = request.user ? null : ctx.services.pageCache.get(key);
    if (cached instanceof PageTemplate) return sendCachedPage(ctx, reply, cached);
    return renderPetitionPage(ctx, request, reply, await petitions.viewFor(slug, request.user), { cacheAs: request.user ? undefined : key });
  });

  // The private link a submitted petition's team shares to gather its first supporters.
  app.get('/petitions/:slug/support/:token', async (request, reply) => {
    const { slug, token } = request.params as { slug: string; token: string };
    const petition = await petitions.petitionForSigning(slug, token);
    // Once published, an old supporters' link leads to the public page.
    if (!petitions.collectsSupporters(petition)) return reply.redirect(path(petition), 303);
    reply.header('x-robots-tag', 'noindex').header('referrer-policy', 'no-referrer');
    return renderPetitionPage(ctx, request, reply, { petition, actor: null }, { supportToken: token });
  });

  app.get('/petitions/:slug/edit', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const view = await petitions.viewFor(slug, user);
    if (!petitions.can(view, 'edit') && !petitions.can(view, 'moderate_edit')) {
      throw new AppError('forbidden', 'This petition can no longer be changed: people have signed this text. Moderators can correct mistakes.');
    }
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => FormPage({
      ctx: pageCtx,
      title: t('petition_form.edit_title', { title: petitionText(view.petition).title }),
      intro: petitions.can(view, 'edit') ? t('petition_form.intro_edit') : t('petition_form.intro_correct'),
      action: path(view.petition, '/edit'),
      values: formValuesOf(view.petition, ctx.config.timeZone),
      errors: {},
      submitLabel: t('petition_form.save_changes'),
      back: path(view.petition),
    });
    return sendPage(reply.header('cache-control', 'private, no-store'), page);
  });

  app.post('/petitions/:slug/edit', { config: { csrf: true } }, async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const { slug } = request.params as { slug: string };
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const petition = await petitions.updatePetition(user, slug, petitionInputFromForm(body));
      return reply.redirect(path(petition), 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const pageCtx = await pageContext(ctx, request, reply);
      const page = () => FormPage({
        ctx: pageCtx,
        title: t('petition_form.edit_petition'),
        intro: t('petition_form.check_fields'),
        action: `/petitions/${encodeURIComponent(slug)}/edit`,
        values: typedValues(body),
        errors: err.fields,
        submitLabel: t('petition_form.save_changes'),
        back: `/petitions/${encodeURIComponent(slug)}`,
      });
      return sendPage(reply, page, 422);
    }
  });

  for (const [action, run] of Object.entries(SIMPLE_ACTIONS)) {
    app.post(`/petitions/:slug/${action}`, { config: { csrf: true } }, (request, reply) =>
      runAction(request, reply, (user, slug) => run(ctx, user, slug)),
    );
  }
  app.post('/petitions/:slug/reject', { config: { csrf: true } }, (request, reply) =>
    runAction(request, reply, (user, slug) => petitions.rejectPetition(user, slug, request.body ?? {})),
  );
  app.post('/petitions/:slug/hide', { config: { csrf: true } }, (request, reply) =>
    runAction(request, reply, (user, slug) => petitions.setHidden(user, slug, true, request.body ?? {})),
  );

  app.get('/account', async (request, reply) => {
    const user = requirePageUser(request, reply);
    if (!user) return reply;
    const mine = await petitions.listForMember(user);
    const page = <AccountPage ctx={await pageContext(ctx, request, reply)} user={user} petitions={mine} timeZone={ctx.config.timeZone} />;
    return sendPage(reply.header('cache-control', 'private, no-store'), page);
  });
}

/** Why a petition was rejected, in the reader's language where the site has the wording in it. */
const RejectionLabel = ({ rejection }: { rejection: NonNullable<Petition['rejection']> }) => {
  const { label, labelLanguage } = rejectionLabel(rejection);
  return labelLanguage === currentLanguage() ? <>{label}</> : <span lang={labelLanguage}>{label}</span>;
};
