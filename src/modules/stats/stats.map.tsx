import { geoIdentity, geoPath, geoTransform } from 'd3-geo';
import type { FeatureCollection, Geometry } from 'geojson';
import type { GeoAreaKind } from '../../db/schema.ts';
import { formatNumber } from '../../views/components.tsx';
import type { GeoRepository } from '../geo/geo.repository.ts';
import { areaKindLabel, type AreaCount, type AreaKind } from './stats.service.ts';
import { currentLocale, t } from '../../i18n/i18n.ts';

const MAP_WIDTH = 420;
const MAP_HEIGHT = 620;
/** Boundaries change only when an operator imports new ones; other processes pick them up within this. */
const OUTLINE_CACHE_MS = 5 * 60_000;

export interface MapOutlines {
  width: number;
  height: number;
  /** SVG path data for each area, fitted to the map and simplified to what the screen can show. */
  paths: Map<string, string>;
  names: Map<string, string>;
}

/**
 * Draws areas as SVG paths with d3-geo, once per kind of area: boundaries are fitted to the map
 * box and points closer together than half a pixel are dropped, so a map of 650 constituencies
 * stays small. The paths are kept; each petition's map only chooses colours.
 */
export class MapOutlineCache {
  private cache = new Map<GeoAreaKind, { at: number; outlines: Promise<MapOutlines | null> }>();
  private kinds: { at: number; kinds: Promise<GeoAreaKind[]> } | null = null;

  constructor(private readonly geo: GeoRepository) {}

  /** Forgets what was drawn (boundaries were imported by this process). */
  invalidate(): void {
    this.cache.clear();
    this.kinds = null;
  }

  /** The kinds of area that have boundaries (a map can be drawn). */
  available(): Promise<GeoAreaKind[]> {
    if (!this.kinds || Date.now() - this.kinds.at > OUTLINE_CACHE_MS) this.kinds = { at: Date.now(), kinds: this.geo.boundaryKinds() };
    return this.kinds.kinds;
  }

  outlines(kind: GeoAreaKind): Promise<MapOutlines | null> {
    const hit = this.cache.get(kind);
    if (hit && Date.now() - hit.at < OUTLINE_CACHE_MS) return hit.outlines;
    const outlines = this.draw(kind);
    this.cache.set(kind, { at: Date.now(), outlines });
    outlines.catch(() => this.cache.delete(kind));
    return outlines;
  }

  private async draw(kind: GeoAreaKind): Promise<MapOutlines | null> {
    const rows = await this.geo.boundaries(kind);
    if (rows.length === 0) return null;
    const collection: FeatureCollection = {
      type: 'FeatureCollection',
      features: rows.map((r) => ({ type: 'Feature', id: r.code, properties: {}, geometry: JSON.parse(r.geometry) as Geometry })),
    };
    const fit = geoIdentity().reflectY(true).fitSize([MAP_WIDTH, MAP_HEIGHT], collection);
    let last: [number, number] | null = null;
    const simplify = geoTransform({
      point(x, y) {
        const [px, py] = fit([x, y])!;
        if (last && Math.abs(px - last[0]) < 0.5 && Math.abs(py - last[1]) < 0.5) return;
        last = [px, py];
        this.stream.point(px, py);
      },
      lineStart() {
        last = null;
        this.stream.lineStart();
      },
    });
    const path = geoPath(simplify).digits(1);
    const paths = new Map<string, string>();
    for (const f of collection.features) paths.set(String(f.id), path(f) ?? '');
    const names = new Map(rows.filter((r) => r.name).map((r) => [r.code, r.name!]));
    return { width: MAP_WIDTH, height: MAP_HEIGHT, paths, names };
  }
}

/** Sequential blues (ColorBrewer, colour-blind safe), lightest for the fewest. */
const PALETTE = ['#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
const NO_SIGNATURES = '#ffffff';

export type MapMeasure = 'count' | 'per_100k';

/** The colour of class `i` of `n`, spread over the whole palette so few classes still contrast. */
function classColour(i: number, n: number): string {
  return PALETTE[n <= 1 ? 3 : Math.round((i * (PALETTE.length - 1)) / (n - 1))]!;
}

/** Up to five classes, split at quantiles of the non-zero values; each class is [from, to]. */
export function mapClasses(values: number[]): [number, number][] {
  const sorted = values.filter((v) => v > 0).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const classes: [number, number][] = [];
  let from = sorted[0]!;
  for (let i = 1; i <= PALETTE.length; i++) {
    const to = sorted[Math.min(sorted.length - 1, Math.ceil((i / PALETTE.length) * sorted.length) - 1)]!;
    if (classes.length > 0 && to <= classes.at(-1)![1]) continue;
    classes.push([from, to]);
    from = sorted.find((v) => v > to) ?? to;
  }
  return classes;
}

function valueOf(area: AreaCount | undefined, measure: MapMeasure): number | null {
  if (!area) return 0;
  return measure === 'count' ? area.count : area.per_100k;
}

const formatValue = (v: number, measure: MapMeasure) => (measure === 'count' ? formatNumber(v) : v.toLocaleString(currentLocale(), { maximumFractionDigits: 1 }));

/**
 * A choropleth of one kind of area: every area with a boundary is drawn, shaded by its
 * signatures (or signatures per 100,000 people), with a legend. Each area names itself on hover;
 * the table beside the map carries the same figures for screen readers.
 */
export const ChoroplethMap = (p: { kind: AreaKind; outlines: MapOutlines; areas: AreaCount[]; measure: MapMeasure }) => {
  const byCode = new Map(p.areas.map((a) => [a.code, a]));
  const classes = mapClasses(p.areas.map((a) => valueOf(a, p.measure) ?? 0));
  const colour = (v: number | null) => {
    if (v === null) return 'url(#no-data)';
    if (v <= 0) return NO_SIGNATURES;
    const index = classes.findIndex(([, to]) => v <= to);
    return classColour(index === -1 ? classes.length - 1 : index, classes.length);
  };
  const label = areaKindLabel(p.kind).lower;
  const what = p.measure === 'count' ? t('stats.what_count') : t('stats.what_per_100k');
  const legendY = 20;
  return (
    <svg xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${p.outlines.width} ${p.outlines.height}`} role="img" aria-labelledby="map-title map-desc" class="map">
      <title id="map-title">{t('stats.map_title', { what, areas: label })}</title>
      <desc id="map-desc">{t('stats.map_desc', { what, areas: label })}</desc>
      <defs>
        <pattern id="no-data" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="6" height="6" fill="#ffffff" />
          <line x1="0" y1="0" x2="0" y2="6" stroke="#b1b4b6" stroke-width="2" />
        </pattern>
      </defs>
      <g stroke="#6f777b" stroke-width="0.3" stroke-linejoin="round">
        {[...p.outlines.paths].map(([code, d]) => {
          const area = byCode.get(code);
          const v = valueOf(area, p.measure);
          const name = area?.name ?? p.outlines.names.get(code) ?? code;
          return (
            <path d={d} fill={colour(v)} data-code={code}>
              <title>{`${name}: ${v === null ? t('stats.population_unknown') : formatValue(v, p.measure)}`}</title>
            </path>
          );
        })}
      </g>
      <g class="legend" font-size="11" fill="#0b0c0c">
        {classes.map(([from, to], i) => (
          <g>
            <rect x="8" y={legendY + i * 18} width="14" height="14" fill={classColour(i, classes.length)} stroke="#505a5f" stroke-width="0.5" />
            <text x="28" y={legendY + i * 18 + 11}>{from === to ? formatValue(from, p.measure) : `${formatValue(from, p.measure)}–${formatValue(to, p.measure)}`}</text>
          </g>
        ))}
        <rect x="8" y={legendY + classes.length * 18} width="14" height="14" fill={NO_SIGNATURES} stroke="#505a5f" stroke-width="0.5" />
        <text x="28" y={legendY + classes.length * 18 + 11}>{t('stats.none')}</text>
      </g>
    </svg>
  );
};

/** Where there are no boundaries to draw: the top areas as a ranked bar chart. */
export const RankedBars = (p: { kind: AreaKind; areas: AreaCount[]; limit?: number }) => {
  const top = p.areas.slice(0, p.limit ?? 15);
  if (top.length === 0) return null;
  const width = 720;
  const row = 24;
  const labelWidth = 220;
  const max = top[0]!.count;
  const label = areaKindLabel(p.kind).lower;
  return (
    <svg xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${width} ${top.length * row + 8}`} role="img" aria-labelledby="bars-title" class="chart">
      <title id="bars-title">{t('stats.bars_title', { n: formatNumber(top.length), areas: label })}</title>
      {top.map((a, i) => {
        const w = Math.max(1, ((width - labelWidth - 80) * a.count) / max);
        return (
          <g font-size="13" fill="#0b0c0c">
            <text x={labelWidth - 8} y={i * row + 17} text-anchor="end">
              {a.code === a.name ? a.name : `${a.name} (${a.code})`}
            </text>
            <rect x={labelWidth} y={i * row + 4} width={w.toFixed(1)} height={row - 8} fill="#1d70b8" />
            <text x={labelWidth + w + 6} y={i * row + 17}>
              {formatNumber(a.count)}
            </text>
          </g>
        );
      })}
    </svg>
  );
};
