import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';

/** The Redis the suites use (shared with other suites and people: every run works under its own prefix). */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A REDIS_PREFIX no other run uses: `portico-test:<label>:<random>:`. */
export function testRedisPrefix(label: string): string {
  return `portico-test:${label}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (a finished run's). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * A `fetch` that sends each request to the next of `bases` in turn (a
 * round-robin load balancer without affinity, in-process), keeping path and
 * query; `served` records the `X-Portico-Instance` of every answer.
 */
export function roundRobinFetch(bases: string[]): { fetch: typeof fetch; served: string[]; methods: string[] } {
  let next = 0;
  const served: string[] = [];
  const methods: string[] = [];
  const rr = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const base = new URL(bases[next++ % bases.length]);
    url.protocol = base.protocol;
    url.host = base.host;
    const response = await fetch(url, init);
    served.push(response.headers.get('x-portico-instance') ?? '?');
    methods.push(init?.method ?? 'GET');
    return response;
  }) as typeof fetch;
  return { fetch: rr, served, methods };
}
