import type { Endorsement } from '../endorsements/endorsements.repository.ts';
import type { Milestone } from '../milestones/milestones.ts';
import type { PressLink } from '../press/press.repository.ts';
import type { UpdateWithEmail } from '../updates/updates.service.ts';
import { formatDate, formatNumber } from '../../views/components.tsx';
import type { Petition } from './petitions.service.ts';
import { t } from '../../i18n/i18n.ts';

const base = (petition: Pick<Petition, 'slug'>) => `/petitions/${encodeURIComponent(petition.slug)}`;

const EndorsementCard = ({ e }: { e: Endorsement }) => (
  <li class="endorsement">
    {e.imageUploadId ? <img src={`/uploads/${e.imageUploadId}`} alt="" width={64} height={64} class="endorsement-image" /> : null}
    <div>
      <p class="endorsement-name">
        {e.url ? (
          <a href={e.url} rel="nofollow ugc noopener">
            {e.name}
          </a>
        ) : (
          e.name
        )}
        {e.verified ? (
          <span class="verified" title={t('campaign.verified_title')}>
            {' '}
            ✓ <span class="visually-hidden">(</span>{t('campaign.verified')}<span class="visually-hidden">)</span>
          </span>
        ) : null}
      </p>
      {e.role || e.organisation ? <p class="meta">{[e.role, e.organisation].filter(Boolean).join(', ')}</p> : null}
      {e.quote ? <blockquote>{e.quote}</blockquote> : null}
    </div>
  </li>
);

/** "Supported by": people and organisations in the order the campaign chose. */
export const SupportedBy = (p: { petition: Petition; endorsements: Endorsement[]; canManage: boolean }) => {
  if (p.endorsements.length === 0 && !p.canManage) return null;
  const people = p.endorsements.filter((e) => e.kind === 'person');
  const organisations = p.endorsements.filter((e) => e.kind === 'organisation');
  return (
    <section aria-labelledby="supported-title" class="supported-by">
      <h2 id="supported-title">{t('campaign.supported_by')}</h2>
      {p.canManage ? (
        <p>
          <a class="button button-secondary" href={`${base(p.petition)}/endorsements`}>
            {t('campaign.manage_endorsements')}
          </a>
        </p>
      ) : null}
      {organisations.length ? (
        <>
          <h3>{t('campaign.organisations')}</h3>
          <ul class="endorsement-list">
            {organisations.map((e) => (
              <EndorsementCard e={e} />
            ))}
          </ul>
        </>
      ) : null}
      {people.length ? (
        <>
          <h3>{t('campaign.people')}</h3>
          <ul class="endorsement-list">
            {people.map((e) => (
              <EndorsementCard e={e} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
};

/** "In the news": coverage links, newest first. */
export const InTheNews = (p: { petition: Petition; links: PressLink[]; canManage: boolean; timeZone: string }) => {
  if (p.links.length === 0 && !p.canManage) return null;
  return (
    <section aria-labelledby="news-title">
      <h2 id="news-title">{t('campaign.in_the_news')}</h2>
      {p.canManage ? (
        <p>
          <a class="button button-secondary" href={`${base(p.petition)}/press`}>
            {t('campaign.manage_press')}
          </a>
        </p>
      ) : null}
      <ul class="press-list">
        {p.links.map((l) => (
          <li>
            <a href={l.url} rel="nofollow noopener">
              {l.headline}
            </a>{' '}
            <span class="meta">
              — {l.outlet}, {formatDate(`${l.publishedOn}T12:00:00Z`, p.timeZone)}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
};

type TimelineEntry = { at: string; text: string; href?: string };

/** The campaign's story at a glance: milestones, updates, endorsements and press, newest first. */
export const Timeline = (p: { petition: Petition; milestones: Milestone[]; updates: UpdateWithEmail[]; endorsements: Endorsement[]; press: PressLink[]; timeZone: string }) => {
  const entries: TimelineEntry[] = [
    ...(p.petition.openedAt ? [{ at: p.petition.openedAt, text: t('timeline.opened') }] : []),
    ...p.milestones.map((m) => ({
      at: m.reachedAt,
      text: t(`timeline.milestone_${m.kind === 'goal' || m.kind === 'response' || m.kind === 'debate' ? m.kind : 'count'}`, { n: formatNumber(m.threshold) }),
    })),
    ...p.updates.map((u) => ({ at: u.createdAt, text: t('timeline.update', { title: u.title }), href: `${base(p.petition)}/updates/${u.id}` })),
    ...p.endorsements.map((e) => ({ at: e.createdAt, text: t('timeline.endorsed', { name: e.name }) })),
    ...p.press.map((l) => ({ at: `${l.publishedOn}T12:00:00.000Z`, text: t('timeline.press', { outlet: l.outlet }), href: l.url })),
    ...(p.petition.state === 'closed' && (p.petition.closedAt ?? p.petition.deadline) ? [{ at: (p.petition.closedAt ?? p.petition.deadline)!, text: t('timeline.closed') }] : []),
    ...(p.petition.deliveredAt ? [{ at: p.petition.deliveredAt, text: t('timeline.delivered') }] : []),
    ...(p.petition.outcome ? [{ at: p.petition.outcome.recordedAt, text: t('timeline.outcome', { outcome: t(`outcomes.${p.petition.outcome.result}`) }) }] : []),
  ].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  if (entries.length < 2) return null;
  return (
    <section aria-labelledby="timeline-title" class="timeline">
      <h2 id="timeline-title">{t('timeline.heading')}</h2>
      <ol>
        {entries.map((e) => (
          <li>
            <time datetime={e.at}>{formatDate(e.at, p.timeZone)}</time> {e.href ? <a href={e.href}>{e.text}</a> : e.text}
          </li>
        ))}
      </ol>
    </section>
  );
};

/**
 * Where the petition stands against the site's thresholds (as on the UK Parliament site): a
 * response is due at one, a debate is considered at the other.
 */
export const Thresholds = (p: { petition: Petition; milestones: Milestone[]; responseAt: number; debateAt: number; hasResponse: boolean }) => {
  const total = p.petition.signatureCount + p.petition.paperSignatureCount;
  const reached = (kind: 'response' | 'debate') => p.milestones.some((m) => m.kind === kind);
  if (p.petition.state === 'draft' || p.petition.state === 'pending' || p.petition.state === 'rejected') return null;
  if (reached('debate')) return <p class="threshold threshold-reached">{t('thresholds.debate_reached', { n: formatNumber(p.debateAt) })}</p>;
  if (reached('response')) {
    return (
      <>
        {p.hasResponse ? null : (
          <p class="threshold threshold-reached">{t('thresholds.awaiting_response', { target: p.petition.target.name, n: formatNumber(p.responseAt) })}</p>
        )}
        {p.petition.state === 'open' ? (
          <p class="threshold">{t('thresholds.debate_at', { n: formatNumber(p.debateAt), total: formatNumber(total) })}</p>
        ) : null}
      </>
    );
  }
  return p.petition.state === 'open' ? (
    <p class="threshold">{t('thresholds.response_at', { target: p.petition.target.name, n: formatNumber(p.responseAt), total: formatNumber(total) })}</p>
  ) : null;
};
