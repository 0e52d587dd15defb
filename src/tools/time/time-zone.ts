import { z } from 'zod';

/**
 * Intl formatters are costly to build (most of a call's CPU): one per zone and
 * kind. IANA zones are a closed set, but Intl also accepts every spelling of
 * them in any letter case, so a cache is capped rather than trusted to stay small.
 */
const MAX_CACHED_ZONES = 1000;
const offsetFormatters = new Map<string, Intl.DateTimeFormat>();
const wallClockFormatters = new Map<string, Intl.DateTimeFormat>();

function cached(cache: Map<string, Intl.DateTimeFormat>, zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  let formatter = cache.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { ...options, timeZone: zone });
    if (cache.size >= MAX_CACHED_ZONES) cache.clear();
    cache.set(zone, formatter);
  }
  return formatter;
}

/** True when the runtime knows the IANA zone (`Europe/Berlin`, `UTC`, ...). */
export function isTimeZone(zone: string): boolean {
  if (offsetFormatters.has(zone)) return true;
  try {
    cached(offsetFormatters, zone, { timeZoneName: 'longOffset' });
    return true;
  } catch {
    return false;
  }
}

export const timeZone = z
  .string()
  .min(1)
  .refine(isTimeZone, {
    error: (issue) => `unknown time zone "${String(issue.input)}": use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"`,
  });

/** Offset of `zone` from UTC at `instant`, in minutes (east positive). */
export function offsetMinutes(zone: string, instant: Date): number {
  const name = cached(offsetFormatters, zone, { timeZoneName: 'longOffset' })
    .formatToParts(instant)
    .find((p) => p.type === 'timeZoneName')!.value; // "GMT", "GMT+05:30", "GMT-03:00"
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

export interface ZonedTime {
  timezone: string;
  /** ISO 8601 with the zone's offset, e.g. 2026-11-26T04:05:06+01:00 */
  datetime: string;
  utc_offset: string;
  day_of_week: string;
  is_dst: boolean;
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Wall-clock fields of `instant` in `zone`. */
function wallClock(zone: string, instant: Date) {
  const parts = Object.fromEntries(
    cached(wallClockFormatters, zone, {
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'long',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'weekday', string>;
}

export function zonedTime(zone: string, instant: Date): ZonedTime {
  const offset = offsetMinutes(zone, instant);
  const w = wallClock(zone, instant);
  const year = Number(w.year);
  // DST: the offset differs from the smaller of January's and July's offsets.
  const standard = Math.min(
    offsetMinutes(zone, new Date(Date.UTC(year, 0, 1))),
    offsetMinutes(zone, new Date(Date.UTC(year, 6, 1))),
  );
  return {
    timezone: zone,
    datetime: `${w.year}-${w.month}-${w.day}T${w.hour}:${w.minute}:${w.second}${formatOffset(offset)}`,
    utc_offset: formatOffset(offset),
    day_of_week: w.weekday,
    is_dst: offset !== standard,
  };
}

/** The instant at which the wall clock in `zone` shows the given local date and time. */
export function instantAt(zone: string, date: { year: number; month: number; day: number }, hour: number, minute: number): Date {
  const local = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  let instant = new Date(local - offsetMinutes(zone, new Date(local)) * 60_000);
  // A second pass settles instants near a DST change.
  instant = new Date(local - offsetMinutes(zone, instant) * 60_000);
  return instant;
}

/** Today's date in `zone`. */
export function today(zone: string, now: Date): { year: number; month: number; day: number } {
  const w = wallClock(zone, now);
  return { year: Number(w.year), month: Number(w.month), day: Number(w.day) };
}
