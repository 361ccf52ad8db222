/** A source of the current time; tests pass a fixed or advancing clock. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** Adds milliseconds to a date, returning an ISO string. */
export function isoAfter(date: Date, ms: number): string {
  return new Date(date.getTime() + ms).toISOString();
}

/**
 * The last millisecond of a calendar day (YYYY-MM-DD) in a time zone, as a UTC ISO string.
 * A petition "closing on 15 November" stays open until the end of that day where it is run.
 */
export function endOfDayInZone(day: string, timeZone: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const naiveUtc = Date.UTC(y, m - 1, d, 23, 59, 59, 999);
  // The zone's offset can differ either side of a DST change, so settle it in two steps.
  let instant = naiveUtc - zoneOffsetMs(naiveUtc, timeZone);
  instant = naiveUtc - zoneOffsetMs(instant, timeZone);
  return new Date(instant).toISOString();
}

function zoneOffsetMs(instant: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(instant)
    .find((p) => p.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0;
  const sign = match[1] === '-' ? -1 : 1;
  return sign * (Number(match[2]) * 60 + Number(match[3])) * 60_000;
}
