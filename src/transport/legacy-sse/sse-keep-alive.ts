import type { ServerResponse } from 'node:http';

/** How often an idle SSE stream gets a comment line: under the 30–60 s idle cut-off of common proxies and load balancers. */
export const SSE_KEEP_ALIVE_MS = 15_000;

/**
 * Writes an SSE comment line (`: keep-alive`, ignored by clients) on `res`
 * every `intervalMs`, so that proxies do not close a stream that has
 * nothing to say; stops when the response closes or ends.
 */
export function keepSseAlive(res: ServerResponse, intervalMs = SSE_KEEP_ALIVE_MS): void {
  const timer = setInterval(() => {
    if (res.writableEnded || res.destroyed) clearInterval(timer);
    else res.write(': keep-alive\n\n');
  }, intervalMs).unref();
  res.once('close', () => clearInterval(timer));
}
