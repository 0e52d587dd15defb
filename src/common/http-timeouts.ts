import type { Server } from 'node:http';
import type { AppConfig } from '../config/app-config';

/**
 * Cuts off slow clients (slowloris) on one listener. Node measures both
 * timeouts from the request's first byte and answers 408 when they pass;
 * once a request has fully arrived it is no longer watched, so an answer
 * that streams for hours (SSE) is not cut. Node checks every
 * `connectionsCheckingInterval` (30 s by default): checked every second
 * here, so a slow client is cut close to the timeout. Set before `listen`.
 */
export function applyHttpTimeouts(server: Server, timeouts: AppConfig['http']['timeouts']): void {
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, timeouts.headersTimeoutMs);
}
