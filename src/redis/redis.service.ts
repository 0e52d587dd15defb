import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { default as Redis, RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig, redactUrl } from '../config/app-config';
import { ReadinessRegistry } from '../health/readiness.registry';

/** How long boot waits for a first connection before going on without (readiness stays 503 until Redis answers). */
const BOOT_WAIT_MS = 3_000;

/** Thrown (and answered 503) when a request needs Redis and it cannot be reached. */
export class RedisUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('Redis cannot be reached', { cause });
    this.name = 'RedisUnavailableError';
  }
}

type MessageHandler = (message: string) => void;

/**
 * The fleet's shared Redis (REDIS_URL): one connection for commands, one for
 * pub/sub, both reconnecting on their own. Commands fail at once while Redis
 * is away (no offline queue), so callers answer with a clear error or fall
 * back instead of hanging; readiness has a `redis` check. Every key and
 * channel goes through {@link key}, under REDIS_PREFIX.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private readonly reconnectListeners = new Set<() => void>();
  private unregister?: () => void;
  private up = false;
  private closed = false;
  /** Bumped each time the pub/sub connection drops: messages may have been missed since. */
  private epoch = 0;
  /** True while every channel with a handler is subscribed on a live connection. */
  private listening = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: ReadinessRegistry,
  ) {
    const { url, prefix } = config.redis!;
    this.prefix = prefix;
    const options: RedisOptions = {
      connectionName: `portico:${config.instance.id}`,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(100 * times, 2_000),
      lazyConnect: true,
    };
    // Loaded here, not at import: without REDIS_URL this service is never built and ioredis never loaded.
    const { default: Redis } = require('ioredis') as typeof import('ioredis');
    // Auto-pipelining: the commands concurrent requests issue in one tick leave in one write
    // (a write system call costs about as much CPU as the rest of a command here).
    this.client = new Redis(url, { ...options, enableOfflineQueue: false, enableAutoPipelining: true });
    // Subscriptions are (re)made here on every connect, for the channels that have handlers then.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: false, autoResubscribe: false, commandTimeout: undefined });
    this.client.on('ready', () => this.transition(true));
    this.client.on('close', () => this.transition(false));
    this.client.on('error', (e) => this.logger.debug({ err: e }, 'redis connection error'));
    this.subscriber.on('error', (e) => this.logger.debug({ err: e }, 'redis subscriber connection error'));
    this.subscriber.on('close', () => {
      this.listening = false;
      this.epoch++;
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch (e) {
          this.logger.error({ err: e, channel }, 'a pub/sub handler failed');
        }
      }
    });
    // Subscribe again after a reconnect; listeners then catch up on what pub/sub lost meanwhile.
    this.subscriber.on('ready', () => {
      const epoch = this.epoch;
      if (!this.handlers.size) return void (this.listening = true);
      this.subscriber
        .subscribe(...this.handlers.keys())
        .then(() => {
          if (epoch === this.epoch) this.listening = true;
          for (const listener of this.reconnectListeners) listener();
        })
        .catch((e: unknown) => this.logger.warn({ err: e }, 'could not subscribe again after reconnecting'));
    });
  }

  async onModuleInit(): Promise<void> {
    this.unregister = this.readiness.register({
      name: 'redis',
      check: async () => {
        const started = performance.now();
        await this.client.ping().catch((e: unknown) => {
          throw new Error(`Redis does not answer: ${(e as Error).message}`);
        });
        return { latencyMs: Math.round((performance.now() - started) * 10) / 10 };
      },
    });
    const connected = Promise.all([this.client.connect(), this.subscriber.connect()]).then(() => true);
    const waited = await Promise.race([connected.catch(() => false), new Promise<false>((r) => setTimeout(() => r(false), BOOT_WAIT_MS).unref())]);
    if (!waited) this.logger.warn({ url: redactUrl(this.config.redis!.url) }, 'Redis is not reachable yet: readiness stays 503 until it answers');
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.unregister?.();
    await Promise.all(
      [this.client, this.subscriber].map(async (c) => {
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
        else c.disconnect();
      }),
    );
  }

  /** True while the command connection is up. */
  get available(): boolean {
    return this.up;
  }

  /** `REDIS_PREFIX` + the parts joined with `:`. */
  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(channel, message);
  }

  /**
   * Calls `handler` with each message on `channel`; resolves once Redis has
   * confirmed the subscription (at once while Redis is away: the
   * subscription is made when it is back). Returns the function that takes
   * it off again.
   */
  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      if (this.subscriber.status === 'ready') {
        await this.subscriber.subscribe(channel).catch((e: unknown) => {
          // Not heard until the next reconnect subscribes it: nothing may rely on pub/sub meanwhile.
          this.listening = false;
          this.logger.warn({ err: e, channel }, 'could not subscribe (done again on reconnect)');
        });
      }
    }
    set.add(handler);
    return async () => {
      const current = this.handlers.get(channel);
      if (!current?.delete(handler) || current.size) return;
      this.handlers.delete(channel);
      if (!this.closed && this.subscriber.status === 'ready') await this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /**
   * While pub/sub hears every message published on the subscribed channels:
   * a number that changes whenever it may have missed some since (the
   * connection dropped); undefined while it may be missing them now. A cache
   * kept fresh by pub/sub trusts an entry only while this still gives the
   * number it gave when the entry was read.
   */
  get pubSubEpoch(): number | undefined {
    return this.listening && this.subscriber.status === 'ready' ? this.epoch : undefined;
  }

  /** Called each time the pub/sub connection is back, for catching up on messages it missed. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  private transition(up: boolean): void {
    if (up === this.up || this.closed) return;
    this.up = up;
    if (up) this.logger.log({ url: redactUrl(this.config.redis!.url) }, 'Redis connected');
    else this.logger.warn('Redis connection lost: legacy sessions are refused until it is back; limits fall back to this instance');
  }
}
