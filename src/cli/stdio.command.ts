import pino from 'pino';
import { startStdio } from '../bootstrap';
import { claimStdout } from '../common/claim-stdout';
import { pinoOptions, stderr } from '../common/logger.module';
import type { AppConfig } from '../config/app-config';
import { exitGracefully } from './graceful-exit';

/**
 * `portico stdio`: serves the tools to one local client over stdin/stdout
 * (the client starts Portico as its subprocess). stdout carries protocol
 * messages only; logs go to stderr. Stops when the client closes stdin, or
 * on SIGTERM/SIGINT.
 */
export async function stdio(config: AppConfig): Promise<void> {
  const output = claimStdout();
  const log = pino(pinoOptions(config.log.level), stderr());
  const starting = startStdio(config, { input: process.stdin, output });
  const stop = exitGracefully(log, config.shutdownTimeoutMs, starting);
  const running = await starting;
  void running.disconnected.then(() => stop('stdin closed'));
}
