import { PassThrough, Readable } from 'node:stream';
import { parseExpiry } from './keys.command';
import { readPassword } from './read-password';
import { UsageError } from './cli-args';

describe('credential commands', () => {
  describe('parseExpiry', () => {
    const now = Date.parse('2027-03-01T12:00:00Z');

    it('takes a duration from now', () => {
      expect(parseExpiry('90m', now).toISOString()).toBe('2027-03-01T13:30:00.000Z');
      expect(parseExpiry('12h', now).toISOString()).toBe('2027-03-02T00:00:00.000Z');
      expect(parseExpiry('30d', now).toISOString()).toBe('2027-03-31T12:00:00.000Z');
      expect(parseExpiry('2w', now).toISOString()).toBe('2027-03-15T12:00:00.000Z');
    });

    it('takes a date or an ISO time', () => {
      expect(parseExpiry('2027-12-31', now).toISOString()).toBe('2027-12-31T00:00:00.000Z');
      expect(parseExpiry('2027-12-31T18:00:00+01:00', now).toISOString()).toBe('2027-12-31T17:00:00.000Z');
    });

    it.each(['30', 'tomorrow', '2027-13-45', '5y'])('refuses %s', (text) => {
      expect(() => parseExpiry(text, now)).toThrow(UsageError);
    });
  });

  describe('readPassword without a terminal', () => {
    it('takes the first line of stdin, keeping spaces and colons', async () => {
      await expect(readPassword({ confirm: true }, Readable.from(['pass word: with', ' colon\r\nignored\n']))).resolves.toBe('pass word: with colon');
    });

    it('refuses an empty stdin', async () => {
      await expect(readPassword({ confirm: false }, Readable.from([]))).rejects.toThrow(/no password on stdin/);
    });
  });

  describe('readPassword on a terminal', () => {
    /** A stdin that claims to be a TTY and records raw mode; typed text is pushed in. */
    function terminal() {
      const input = Object.assign(new PassThrough(), { isTTY: true, raw: false, setRawMode(on: boolean) { input.raw = on; } });
      const output = new PassThrough();
      let shown = '';
      output.on('data', (d: Buffer) => (shown += d.toString()));
      return { input, output, shown: () => shown };
    }

    it('prompts on the output, echoes nothing, asks twice, and leaves raw mode', async () => {
      const t = terminal();
      const reading = readPassword({ confirm: true }, t.input, t.output);
      t.input.write('s3cret pX\u007fw\r');
      await new Promise((r) => setImmediate(r));
      t.input.write('s3cret pw\r');

      await expect(reading).resolves.toBe('s3cret pw');
      expect(t.shown()).toBe('Password: \nRepeat the password: \n');
      expect(t.input.raw).toBe(false);
    });

    it('refuses two different passwords, and Ctrl-C', async () => {
      const t = terminal();
      const reading = readPassword({ confirm: true }, t.input, t.output);
      t.input.write('first one\r');
      await new Promise((r) => setImmediate(r));
      t.input.write('second one\r');
      await expect(reading).rejects.toThrow('the two passwords differ');

      const cancelled = readPassword({ confirm: false }, t.input, t.output);
      t.input.write('abc\u0003');
      await expect(cancelled).rejects.toThrow('cancelled');
    });
  });
});
