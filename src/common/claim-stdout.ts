import { Writable } from 'node:stream';

/**
 * Reserves stdout for protocol messages. Returns the only stream that still
 * writes to the real stdout; from now on, anything else written to
 * `process.stdout` (`console.log`, Nest's console logger, a chatty
 * dependency) goes to stderr instead, so a stray line can never corrupt the
 * JSON-RPC stream. Call it before anything else runs. Writes straight to
 * file descriptor 1 (`fs.writeSync(1, …)`) are not covered.
 */
export function claimStdout(): Writable {
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout) as (chunk: Buffer, callback: (error?: Error | null) => void) => boolean;
  const protocol = new Writable({
    write: (chunk: Buffer, _encoding, callback) => void write(chunk, (error) => callback(error)),
  });
  // A closed pipe (EPIPE) fails the protocol stream, whose owner closes the connection; unhandled it would crash.
  stdout.on('error', (error) => protocol.destroy(error));
  stdout.write = ((...args: unknown[]) => (process.stderr.write as (...a: unknown[]) => boolean)(...args)) as typeof stdout.write;
  return protocol;
}
