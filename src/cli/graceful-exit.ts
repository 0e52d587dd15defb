import type { Logger } from 'pino';

/**
 * Stops the process once, on SIGTERM, SIGINT or whenever the returned
 * function is called (with the reason, for the log): runs `close`, then exits
 * 0; exits 1 when `close` fails or outlasts `timeoutMs`. A second signal
 * kills the process the default way.
 */
export function gracefulExit(log: Logger, timeoutMs: number, close: () => Promise<void>): (reason: string) => void {
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: e }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return stop;
}
