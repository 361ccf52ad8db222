import { formatNumber } from '../../views/components.tsx';
import { AREA_KIND_LABELS, type AreaKind, type PetitionStats } from './stats.service.ts';

/**
 * The petition page's summary of where signatures come from: the map when boundaries exist, the
 * top areas and countries as a table, and a link to the full figures.
 */
export const WhereSignersAre = (p: { slug: string; stats: PetitionStats; kind: AreaKind; map: boolean }) => {
  const areas = p.stats.by_area[p.kind].slice(0, 5);
  const countries = p.stats.by_country.slice(0, 5);
  if (areas.length === 0 && countries.length === 0) return null;
  const base = `/petitions/${encodeURIComponent(p.slug)}`;
  return (
    <section aria-labelledby="where-title" class="where-signers">
      <h2 id="where-title">Where signers are</h2>
      {p.map ? (
        <p class="map-thumbnail">
          <a href={`${base}/stats?map=${p.kind}#where`}>
            <img src={`${base}/map.svg?map=${p.kind}`} width="210" height="310" alt={`Map of signatures by ${AREA_KIND_LABELS[p.kind].plural.toLowerCase()}; the table gives the top five.`} />
          </a>
        </p>
      ) : null}
      {areas.length > 0 ? (
      <table class="table">
        <caption class="visually-hidden">Areas and countries with the most signatures</caption>
        <thead>
          <tr>
            <th scope="col">{AREA_KIND_LABELS[p.kind].singular}</th>
            <th scope="col" class="num">
              Signatures
            </th>
          </tr>
        </thead>
        <tbody>
          {areas.map((a) => (
            <tr>
              <td>{a.name}</td>
              <td class="num">{formatNumber(a.count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      ) : null}
      {countries.length > 1 ? (
        <p class="meta">
          Countries: {countries.map((c) => `${c.name} ${formatNumber(c.count)}`).join(', ')}
          {p.stats.by_country.length > countries.length ? ' and more' : ''}.
        </p>
      ) : null}
      <p>
        <a href={`${base}/stats`}>All the figures: every area, and signatures over time</a>
      </p>
    </section>
  );
};
