import { Tool, type ToolContext, ToolError, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { formatOffset, instantAt, offsetMinutes, timeZone, today, zonedTime } from './time-zone';

const zoned = z.object({
  timezone: z.string(),
  datetime: z.string().describe('ISO 8601 with the zone offset'),
  utc_offset: z.string(),
  day_of_week: z.string(),
  is_dst: z.boolean(),
});

const currentTimeInput = z.object({
  timezone: timeZone.default('UTC').describe('IANA time zone name, e.g. "Europe/Berlin". Defaults to UTC.'),
});

const convertTimeInput = z.object({
  source_timezone: timeZone.describe('IANA zone the given time is in'),
  time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use 24-hour HH:MM, e.g. "16:30"')
    .describe('Time of day in 24-hour HH:MM'),
  target_timezone: timeZone.describe('IANA zone to convert to'),
  date: z
    .string()
    .regex(/^[1-9]\d{3}-\d{2}-\d{2}$/, 'use YYYY-MM-DD (years 1000 to 9999)')
    .optional()
    .describe('Date in the source zone (YYYY-MM-DD); defaults to today there'),
});

/** Current time and time-zone conversion, computed locally (no network). */
@ToolProvider({ namespace: 'time' })
export class TimeTools {
  /** Injected for tests; the wall clock otherwise. */
  now: () => Date = () => new Date();

  @Tool({
    name: 'get_current_time',
    title: 'Current time',
    description: 'Current date and time in an IANA time zone, with its UTC offset and whether daylight saving time is in effect.',
    input: currentTimeInput,
    output: zoned,
    annotations: { readOnlyHint: true, idempotentHint: false, openWorldHint: false },
  })
  getCurrentTime({ timezone }: z.infer<typeof currentTimeInput>, _ctx: ToolContext) {
    return zonedTime(timezone, this.now());
  }

  @Tool({
    name: 'convert_time',
    title: 'Convert time between zones',
    description:
      'Converts a time of day (HH:MM, 24-hour) from one IANA time zone to another, on a given date or today, and reports the difference between the zones.',
    input: convertTimeInput,
    output: z.object({ source: zoned, target: zoned, time_difference: z.string() }),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  })
  convertTime(input: z.infer<typeof convertTimeInput>, _ctx: ToolContext) {
    const [hour, minute] = input.time.split(':').map(Number);
    let date = today(input.source_timezone, this.now());
    if (input.date) {
      const [year, month, day] = input.date.split('-').map(Number);
      const check = new Date(Date.UTC(year, month - 1, day));
      if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
        throw new ToolError(`date ${input.date} does not exist`);
      }
      date = { year, month, day };
    }
    const instant = instantAt(input.source_timezone, date, hour, minute);
    const diff = offsetMinutes(input.target_timezone, instant) - offsetMinutes(input.source_timezone, instant);
    return {
      source: zonedTime(input.source_timezone, instant),
      target: zonedTime(input.target_timezone, instant),
      time_difference: `${formatOffset(diff)}`,
    };
  }
}
