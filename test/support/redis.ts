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

/** The command the machine notes (and .ci/run) start the shared Redis with: nothing kept on disk. */
export const REDIS_START = [
  'redis-server',
  ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'],
] as const;

async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * Stops the shared Redis for as short a time as `during` takes, and always
 * starts it again (with {@link REDIS_START}) before returning, even when
 * `during` throws. Other suites and people share this Redis: keep `during` short.
 */
export async function withRedisStopped<T>(during: () => Promise<T>): Promise<T> {
  const { execFileSync } = await import('node:child_process');
  try {
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave'], { stdio: 'ignore' });
  } catch {
    // redis-cli reports the dropped connection of a shutdown as an error
  }
  try {
    for (let i = 0; (await redisAnswers()) && i < 50; i++) await new Promise((r) => setTimeout(r, 50));
    return await during();
  } finally {
    if (!(await redisAnswers())) execFileSync(REDIS_START[0], [...REDIS_START[1]], { stdio: 'ignore' });
    for (let i = 0; !(await redisAnswers()); i++) {
      if (i > 100) throw new Error('Redis did not come back');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
