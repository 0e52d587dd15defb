import { connect } from 'node:net';

/** How one TCP connect attempt ended. */
export interface ConnectOutcome {
  /** `open`: connected; `refused`: the host answered with a reset (it is up, the port is closed); `timeout`: no answer; `unreachable`: the network said no route. */
  result: 'open' | 'refused' | 'timeout' | 'unreachable';
  /** Time to the answer (open or refused), in milliseconds, 0.001 ms resolution. */
  timeMs?: number;
  /** The system error code behind `unreachable`. */
  error?: string;
}

/**
 * One TCP connect to an address the SSRF guard let through (an IP literal:
 * nothing is resolved here). Closes the connection as soon as it opens;
 * sends nothing. Never rejects.
 */
export function tcpConnect(address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
    const socket = connect({ host: address, port, noDelay: true });
    let done = false;
    const finish = (outcome: ConnectOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = () => finish({ result: 'timeout' });
    const timer = setTimeout(() => finish({ result: 'timeout' }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    socket.once('connect', () => finish({ result: 'open', timeMs: elapsed() }));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish({ result: 'refused', timeMs: elapsed() });
      else if (e.code === 'ETIMEDOUT') finish({ result: 'timeout' });
      else finish({ result: 'unreachable', error: e.code ?? 'error' });
    });
  });
}

/** Well-known services of the ports people ask about most, for readable results. */
export const PORT_SERVICES: Readonly<Record<number, string>> = {
  21: 'ftp',
  22: 'ssh',
  23: 'telnet',
  25: 'smtp',
  53: 'dns',
  80: 'http',
  110: 'pop3',
  143: 'imap',
  443: 'https',
  465: 'smtps',
  587: 'submission',
  993: 'imaps',
  1433: 'mssql',
  3000: 'http-dev',
  3306: 'mysql',
  3389: 'rdp',
  5000: 'http-dev',
  5432: 'postgresql',
  5672: 'amqp',
  6379: 'redis',
  8000: 'http-alt',
  8080: 'http-alt',
  8443: 'https-alt',
  9200: 'elasticsearch',
  27017: 'mongodb',
};
