/**
 * ISO 8601 durations as API v3 uses them: `PT1H30M` for time entries and
 * estimates, `P2D` for work package durations.
 */
const DURATION = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Hours in a duration (days count 24 h, weeks 7 days); undefined when it does not parse. */
export function durationToHours(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const m = DURATION.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((x) => (x ? Number(x) : 0));
  return Math.round(((w * 7 + d) * 24 + h + min / 60 + s / 3600) * 1000) / 1000;
}

/** Decimal hours as a duration, rounded to the minute: 1.5 → `PT1H30M`, 0 → `PT0H`. */
export function hoursToDuration(hours: number): string {
  if (!Number.isFinite(hours) || hours < 0) throw new RangeError(`hours must be a non-negative number, got ${hours}`);
  const minutes = Math.round(hours * 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const body = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}`;
  return `PT${body || '0H'}`;
}
