import { TOOL_METADATA, type ToolContext, ToolError, type ToolOptions } from '@portico/mcp-core';
import type { z } from 'zod';
import { TimeTools } from './time.tools';

const ctx = {} as ToolContext;

/** The tool's declared options, as the registry sees them (the time tools declare zod inputs). */
const definitionOf = (method: keyof TimeTools) =>
  Reflect.getMetadata(TOOL_METADATA, TimeTools.prototype[method] as object) as ToolOptions & { input?: z.ZodObject };

function toolsAt(iso: string): TimeTools {
  const tools = new TimeTools();
  tools.now = () => new Date(iso);
  return tools;
}

describe('TimeTools', () => {
  describe('get_current_time', () => {
    it('reports Berlin in winter as +01:00, not daylight saving time', () => {
      expect(toolsAt('2026-01-15T12:00:00Z').getCurrentTime({ timezone: 'Europe/Berlin' }, ctx)).toEqual({
        timezone: 'Europe/Berlin',
        datetime: '2026-01-15T13:00:00+01:00',
        utc_offset: '+01:00',
        day_of_week: 'Thursday',
        is_dst: false,
      });
    });

    it('reports Berlin in summer as +02:00, daylight saving time', () => {
      expect(toolsAt('2026-07-15T12:00:00Z').getCurrentTime({ timezone: 'Europe/Berlin' }, ctx)).toEqual({
        timezone: 'Europe/Berlin',
        datetime: '2026-07-15T14:00:00+02:00',
        utc_offset: '+02:00',
        day_of_week: 'Wednesday',
        is_dst: true,
      });
    });

    it('reports half-hour offsets (Asia/Kolkata +05:30, no DST)', () => {
      expect(toolsAt('2026-07-15T20:45:10Z').getCurrentTime({ timezone: 'Asia/Kolkata' }, ctx)).toMatchObject({
        datetime: '2026-07-16T02:15:10+05:30',
        utc_offset: '+05:30',
        day_of_week: 'Thursday',
        is_dst: false,
      });
    });

    it('reports southern-hemisphere summer time (Australia/Sydney in January)', () => {
      expect(toolsAt('2026-01-15T00:00:00Z').getCurrentTime({ timezone: 'Australia/Sydney' }, ctx)).toMatchObject({
        datetime: '2026-01-15T11:00:00+11:00',
        is_dst: true,
      });
    });

    it('reports negative offsets and midnight as 00', () => {
      expect(toolsAt('2026-07-01T04:00:00Z').getCurrentTime({ timezone: 'America/New_York' }, ctx)).toMatchObject({
        datetime: '2026-07-01T00:00:00-04:00',
        utc_offset: '-04:00',
        is_dst: true,
      });
    });

    it('defaults to UTC', () => {
      const input = definitionOf('getCurrentTime').input!.parse({});

      expect(input).toEqual({ timezone: 'UTC' });
      expect(toolsAt('2026-01-15T12:00:00Z').getCurrentTime(input as { timezone: string }, ctx)).toMatchObject({
        datetime: '2026-01-15T12:00:00+00:00',
        utc_offset: '+00:00',
        is_dst: false,
      });
    });

    it('rejects an unknown zone, naming it', () => {
      const parsed = definitionOf('getCurrentTime').input!.safeParse({ timezone: 'Mars/Olympus_Mons' });

      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0].message).toContain('unknown time zone "Mars/Olympus_Mons"');
    });

    it('returns what its output schema declares', () => {
      const value = toolsAt('2026-01-15T12:00:00Z').getCurrentTime({ timezone: 'Asia/Kolkata' }, ctx);

      expect(definitionOf('getCurrentTime').output!.safeParse(value).success).toBe(true);
    });
  });

  describe('convert_time', () => {
    const tools = toolsAt('2026-07-01T12:00:00Z');

    it('converts 16:30 in New York on 2026-07-01 to 22:30 in Berlin, six hours ahead', () => {
      const result = tools.convertTime(
        { source_timezone: 'America/New_York', time: '16:30', target_timezone: 'Europe/Berlin', date: '2026-07-01' },
        ctx,
      );

      expect(result).toEqual({
        source: {
          timezone: 'America/New_York',
          datetime: '2026-07-01T16:30:00-04:00',
          utc_offset: '-04:00',
          day_of_week: 'Wednesday',
          is_dst: true,
        },
        target: {
          timezone: 'Europe/Berlin',
          datetime: '2026-07-01T22:30:00+02:00',
          utc_offset: '+02:00',
          day_of_week: 'Wednesday',
          is_dst: true,
        },
        time_difference: '+06:00',
      });
      expect(definitionOf('convertTime').output!.safeParse(result).success).toBe(true);
    });

    it('reports a negative difference and a change of date', () => {
      const result = tools.convertTime(
        { source_timezone: 'Asia/Kolkata', time: '03:00', target_timezone: 'America/New_York', date: '2026-07-01' },
        ctx,
      );

      expect(result.target.datetime).toBe('2026-06-30T17:30:00-04:00');
      expect(result.time_difference).toBe('-09:30');
    });

    it('follows the US spring-forward date, when New York and Berlin are five hours apart', () => {
      const convert = (date: string, time: string) =>
        tools.convertTime({ source_timezone: 'America/New_York', time, target_timezone: 'Europe/Berlin', date }, ctx);

      expect(convert('2026-03-07', '12:00').target.datetime).toBe('2026-03-07T18:00:00+01:00');
      expect(convert('2026-03-07', '12:00').time_difference).toBe('+06:00');
      // Clocks in New York go from 02:00 EST to 03:00 EDT on 2026-03-08.
      expect(convert('2026-03-08', '01:30').source.utc_offset).toBe('-05:00');
      expect(convert('2026-03-08', '03:30').source).toMatchObject({ datetime: '2026-03-08T03:30:00-04:00', is_dst: true });
      expect(convert('2026-03-08', '03:30').target.datetime).toBe('2026-03-08T08:30:00+01:00');
      expect(convert('2026-03-08', '12:00').time_difference).toBe('+05:00');
    });

    it('places a time on the European change date on the right side of it', () => {
      const toUtc = (time: string) =>
        tools.convertTime({ source_timezone: 'Europe/Berlin', time, target_timezone: 'UTC', date: '2026-03-29' }, ctx).target
          .datetime;

      expect(toUtc('01:30')).toBe('2026-03-29T00:30:00+00:00');
      expect(toUtc('03:30')).toBe('2026-03-29T01:30:00+00:00');
    });

    it('uses today in the source zone when no date is given', () => {
      // 02:00 UTC on 1 July is still 30 June in New York.
      const result = toolsAt('2026-07-01T02:00:00Z').convertTime(
        { source_timezone: 'America/New_York', time: '09:00', target_timezone: 'UTC' },
        ctx,
      );

      expect(result.source.datetime).toBe('2026-06-30T09:00:00-04:00');
      expect(result.target.datetime).toBe('2026-06-30T13:00:00+00:00');
    });

    it.each(['2026-02-30', '2026-13-01', '2026-00-10', '2026-04-31', '2027-02-29'])('rejects the nonexistent date %s', (date) => {
      const convert = () =>
        tools.convertTime({ source_timezone: 'UTC', time: '12:00', target_timezone: 'Europe/Berlin', date }, ctx);

      expect(convert).toThrow(ToolError);
      expect(convert).toThrow(`date ${date} does not exist`);
    });

    it('accepts 29 February in a leap year', () => {
      const result = tools.convertTime(
        { source_timezone: 'UTC', time: '12:00', target_timezone: 'Europe/Berlin', date: '2028-02-29' },
        ctx,
      );

      expect(result.target.datetime).toBe('2028-02-29T13:00:00+01:00');
    });

    describe('input schema', () => {
      const input = definitionOf('convertTime').input!;
      const valid = { source_timezone: 'America/New_York', time: '16:30', target_timezone: 'Europe/Berlin' };

      it('accepts 24-hour times from 00:00 to 23:59', () => {
        for (const time of ['00:00', '09:05', '23:59']) expect(input.safeParse({ ...valid, time }).success).toBe(true);
      });

      it.each(['25:00', '24:00', '9:30', '12:60', '4pm', '12:30:00'])('rejects the time %p', (time) => {
        const parsed = input.safeParse({ ...valid, time });

        expect(parsed.success).toBe(false);
        expect(parsed.error?.issues.map((i) => i.path[0])).toEqual(['time']);
      });

      it('rejects unknown source and target zones', () => {
        const parsed = input.safeParse({ ...valid, source_timezone: 'Europe/Atlantis', target_timezone: 'Nowhere' });

        expect(parsed.success).toBe(false);
        expect(parsed.error?.issues.map((i) => i.path[0]).sort()).toEqual(['source_timezone', 'target_timezone']);
      });

      it('rejects a date not in YYYY-MM-DD form', () => {
        expect(input.safeParse({ ...valid, date: '01.07.2026' }).success).toBe(false);
      });
    });
  });
});
