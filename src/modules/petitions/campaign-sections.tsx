import type { Endorsement } from '../endorsements/endorsements.repository.ts';
import type { Milestone } from '../milestones/milestones.ts';
import type { PressLink } from '../press/press.repository.ts';
import type { UpdateWithEmail } from '../updates/updates.service.ts';
import { formatDate, formatNumber } from '../../views/components.tsx';
import type { Petition } from './petitions.service.ts';

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
          <span class="verified" title="Verified by a moderator">
            {' '}
            ✓ <span class="visually-hidden">(</span>Verified<span class="visually-hidden">)</span>
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
      <h2 id="supported-title">Supported by</h2>
      {p.canManage ? (
        <p>
          <a class="button button-secondary" href={`${base(p.petition)}/endorsements`}>
            Manage endorsements
          </a>
        </p>
      ) : null}
      {organisations.length ? (
        <>
          <h3>Organisations</h3>
          <ul class="endorsement-list">
            {organisations.map((e) => (
              <EndorsementCard e={e} />
            ))}
          </ul>
        </>
      ) : null}
      {people.length ? (
        <>
          <h3>People</h3>
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
      <h2 id="news-title">In the news</h2>
      {p.canManage ? (
        <p>
          <a class="button button-secondary" href={`${base(p.petition)}/press`}>
            Manage press links
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
    ...(p.petition.openedAt ? [{ at: p.petition.openedAt, text: 'The petition opened' }] : []),
    ...p.milestones.map((m) => ({
      at: m.reachedAt,
      text:
        m.kind === 'goal'
          ? `Reached its goal of ${formatNumber(m.threshold)} signatures`
          : m.kind === 'response'
            ? `Passed ${formatNumber(m.threshold)} signatures: a response is due`
            : m.kind === 'debate'
              ? `Passed ${formatNumber(m.threshold)} signatures: to be considered for debate`
              : `Passed ${formatNumber(m.threshold)} signatures`,
    })),
    ...p.updates.map((u) => ({ at: u.createdAt, text: `Update: ${u.title}`, href: `${base(p.petition)}/updates/${u.id}` })),
    ...p.endorsements.map((e) => ({ at: e.createdAt, text: `Endorsed by ${e.name}` })),
    ...p.press.map((l) => ({ at: `${l.publishedOn}T12:00:00.000Z`, text: `In the news: ${l.outlet}`, href: l.url })),
    ...(p.petition.state === 'closed' && (p.petition.closedAt ?? p.petition.deadline) ? [{ at: (p.petition.closedAt ?? p.petition.deadline)!, text: 'The petition closed' }] : []),
    ...(p.petition.deliveredAt ? [{ at: p.petition.deliveredAt, text: 'Handed in to the decision-maker' }] : []),
    ...(p.petition.outcome ? [{ at: p.petition.outcome.recordedAt, text: `Outcome recorded: ${p.petition.outcome.result.replace('_', ' ')}` }] : []),
  ].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  if (entries.length < 2) return null;
  return (
    <section aria-labelledby="timeline-title" class="timeline">
      <h2 id="timeline-title">Timeline</h2>
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
  if (reached('debate')) return <p class="threshold threshold-reached">Being considered for debate: it passed {formatNumber(p.debateAt)} signatures.</p>;
  if (reached('response')) {
    return (
      <>
        {p.hasResponse ? null : <p class="threshold threshold-reached">Awaiting a response from {p.petition.target.name}: it passed {formatNumber(p.responseAt)} signatures.</p>}
        {p.petition.state === 'open' ? (
          <p class="threshold">
            At {formatNumber(p.debateAt)} signatures it is considered for debate ({formatNumber(total)} of {formatNumber(p.debateAt)}).
          </p>
        ) : null}
      </>
    );
  }
  return p.petition.state === 'open' ? (
    <p class="threshold">
      At {formatNumber(p.responseAt)} signatures, {p.petition.target.name} is asked to respond ({formatNumber(total)} of {formatNumber(p.responseAt)}).
    </p>
  ) : null;
};
