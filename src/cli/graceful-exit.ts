import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service';

/**
 * Stops the process once, on SIGTERM, SIGINT or whenever the returned
 * function is called (with the reason, for the log): runs `close`, then exits
 * 0; exits 1 when `close` fails or outlasts `timeoutMs`. A second SIGTERM or
 * SIGINT exits at once (1). Before either of those hard exits, `force` runs:
 * it must be synchronous and quick (the audit writer puts its queue in the
 * journal).
 */
export function gracefulExit(
  log: Logger,
  timeoutMs: number,
  close: () => Promise<void>,
  force: () => void = () => undefined,
): (reason: string) => void {
  let stopping = false;
  const hardExit = (message: string, fields: Record<string, unknown>) => {
    log.error(fields, message);
    try {
      force();
    } catch (e) {
      log.error({ err: e }, 'could not save state before exiting');
    }
    process.exit(1);
  };
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    const deadline = setTimeout(() => hardExit('shutdown took too long; exiting', { timeoutMs }), timeoutMs);
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
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) hardExit('second signal: exiting now', { signal });
    else stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return stop;
}

/**
 * {@link gracefulExit} for a Portico app from the moment it starts: a signal
 * during start-up waits for it, then closes it; on a hard exit what its audit
 * writer still queues goes to the journal, replayed on the next start.
 */
export function exitGracefully(
  log: Logger,
  timeoutMs: number,
  starting: Promise<{ app: INestApplicationContext; close(): Promise<void> }>,
): (reason: string) => void {
  let started: { app: INestApplicationContext } | undefined;
  starting.then((s) => (started = s), () => undefined);
  return gracefulExit(
    log,
    timeoutMs,
    async () => {
      const running = await starting.catch(() => undefined);
      await running?.close();
    },
    () => started?.app.get(AuditService).spillToJournal(),
  );
}
