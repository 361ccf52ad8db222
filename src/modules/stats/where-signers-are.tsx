import { formatNumber } from '../../views/components.tsx';
import { areaKindLabel, type AreaKind, type PetitionStats } from './stats.service.ts';
import { currentLanguage, t } from '../../i18n/i18n.ts';
import { countryName } from '../../lib/countries.ts';

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
      <h2 id="where-title">{t('where.heading')}</h2>
      {p.map ? (
        <p class="map-thumbnail">
          <a href={`${base}/stats?map=${p.kind}#where`}>
            <img src={`${base}/map.svg?map=${p.kind}`} width="210" height="310" alt={t('where.map_alt', { areas: areaKindLabel(p.kind).lower })} />
          </a>
        </p>
      ) : null}
      {areas.length > 0 ? (
      <table class="table">
        <caption class="visually-hidden">{t('where.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{areaKindLabel(p.kind).singular}</th>
            <th scope="col" class="num">
              {t('petition.signatures')}
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
          {t(p.stats.by_country.length > countries.length ? 'where.countries_more' : 'where.countries', {
            list: countries.map((c) => `${countryName(c.code, currentLanguage())} ${formatNumber(c.count)}`).join(', '),
          })}
        </p>
      ) : null}
      <p>
        <a href={`${base}/stats`}>{t('where.all_figures')}</a>
      </p>
    </section>
  );
};
