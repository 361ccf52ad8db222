import { currentLocale, t as tr } from '../../i18n/i18n.ts';
import { nice, ticks } from 'd3-array';
import { formatNumber } from '../../views/components.tsx';
import type { PetitionStats, Resolution } from './stats.service.ts';

const WIDTH = 720;
const PAD = { left: 64, right: 16, top: 16, bottom: 40 };

/** The axis: a round top at or above `n`, with about four whole-number steps up to it. */
export function axisTicks(n: number): { max: number; ticks: number[] } {
  const [, top] = nice(0, Math.max(1, n), 4);
  const values = ticks(0, top, 4).filter((v) => Number.isInteger(v));
  return { max: top, ticks: values };
}

/** "16 Nov 2026" for a day, "16 Nov 14:00" (UTC) for an hour. */
export function periodLabel(t: string, resolution: Resolution): string {
  if (resolution === 'day') return new Date(`${t}T12:00:00Z`).toLocaleDateString(currentLocale(), { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return `${new Date(t).toLocaleDateString(currentLocale(), { day: 'numeric', month: 'short', timeZone: 'UTC' })} ${t.slice(11, 16)}`;
}

interface ChartFrameProps {
  id: string;
  title: string;
  description: string;
  height: number;
  axis: { max: number; ticks: number[] };
  stats: PetitionStats;
  children?: unknown;
}

/** Axes, gridlines and period labels shared by both charts. */
const ChartFrame = ({ id, title, description, height, axis, stats, children }: ChartFrameProps) => {
  const points = stats.timeline;
  const y = (v: number) => height - PAD.bottom - (v / axis.max) * (height - PAD.top - PAD.bottom);
  const labelled = [...new Set([0, Math.floor((points.length - 1) / 2), points.length - 1])];
  const x = (i: number) => PAD.left + (points.length <= 1 ? 0 : (i / (points.length - 1)) * (WIDTH - PAD.left - PAD.right));
  return (
    <svg xmlns="http://www.w3.org/2000/svg" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} class="chart">
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{description}</desc>
      {axis.ticks.map((v) => (
        <g>
          <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(v).toFixed(1)} y2={y(v).toFixed(1)} stroke={v === 0 ? '#0b0c0c' : '#dfe1e2'} />
          <text x={PAD.left - 8} y={(y(v) + 4).toFixed(1)} text-anchor="end" font-size="12" fill="#0b0c0c">
            {formatNumber(Math.round(v))}
          </text>
        </g>
      ))}
      {labelled.map((i, n) => (
        <text x={x(i).toFixed(1)} y={height - 14} font-size="12" fill="#0b0c0c" text-anchor={n === 0 ? 'start' : n === labelled.length - 1 ? 'end' : 'middle'}>
          {periodLabel(points[i]!.t, stats.resolution)}
        </text>
      ))}
      {children}
    </svg>
  );
};

/**
 * The running total of confirmed signatures as an SVG line, with milestones marked: readable and
 * printable without JavaScript. Nothing when nobody has signed.
 */
export const CumulativeChart = ({ stats, milestones }: { stats: PetitionStats; milestones: { threshold: number }[] }) => {
  const points = stats.timeline;
  if (points.length === 0) return null;
  const height = 280;
  const total = points.at(-1)!.cumulative;
  const axis = axisTicks(total);
  const max = axis.max;
  const x = (i: number) => PAD.left + (points.length === 1 ? 0 : (i / (points.length - 1)) * (WIDTH - PAD.left - PAD.right));
  const y = (v: number) => height - PAD.bottom - (v / max) * (height - PAD.top - PAD.bottom);
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.cumulative).toFixed(1)}`).join(' ');
  const from = periodLabel(points[0]!.t, stats.resolution);
  const to = periodLabel(points.at(-1)!.t, stats.resolution);
  return (
    <ChartFrame id="cumulative" title={tr('stats.over_time')} description={tr('stats.over_time_desc', { from, to, total: formatNumber(total) })} height={height} axis={axis} stats={stats}>
      {milestones
        .filter((m) => m.threshold <= total)
        .map((m) => (
          <g class="milestone">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(m.threshold).toFixed(1)} y2={y(m.threshold).toFixed(1)} stroke="#505a5f" stroke-dasharray="4 4" />
            <text x={PAD.left + 6} y={(y(m.threshold) - 4).toFixed(1)} font-size="12" fill="#0b0c0c">
              {tr('stats.milestone', { n: formatNumber(m.threshold) })}
            </text>
          </g>
        ))}
      {points.length === 1 ? (
        <circle cx={x(0)} cy={y(total).toFixed(1)} r="4" fill="#00703c" />
      ) : (
        <path d={line} fill="none" stroke="#00703c" stroke-width="3" />
      )}
    </ChartFrame>
  );
};

/** Confirmed signatures in each hour or day, as SVG bars. */
export const PeriodChart = ({ stats }: { stats: PetitionStats }) => {
  const points = stats.timeline;
  if (points.length === 0) return null;
  const height = 200;
  const busiest = points.reduce((a, b) => (b.count > a.count ? b : a));
  const axis = axisTicks(busiest.count);
  const max = axis.max;
  const slot = (WIDTH - PAD.left - PAD.right) / points.length;
  const y = (v: number) => height - PAD.bottom - (v / max) * (height - PAD.top - PAD.bottom);
  const hourly = stats.resolution === 'hour';
  return (
    <ChartFrame
      id="per-period"
      title={tr(hourly ? 'stats.per_hour' : 'stats.per_day')}
      description={tr(hourly ? 'stats.busiest_hour' : 'stats.busiest_day', { when: periodLabel(busiest.t, stats.resolution), n: formatNumber(busiest.count) })}
      height={height}
      axis={axis}
      stats={stats}
    >
      {points.map((p, i) =>
        p.count > 0 ? (
          <rect x={(PAD.left + i * slot + slot * 0.1).toFixed(1)} y={y(p.count).toFixed(1)} width={Math.max(0.5, slot * 0.8).toFixed(1)} height={(height - PAD.bottom - y(p.count)).toFixed(1)} fill="#1d70b8">
            <title>{`${periodLabel(p.t, stats.resolution)}: ${formatNumber(p.count)}`}</title>
          </rect>
        ) : null,
      )}
    </ChartFrame>
  );
};
