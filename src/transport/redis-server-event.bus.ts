import { InMemoryServerEventBus, type ServerEvent, type ServerEventBus } from '@modelcontextprotocol/server';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RedisService } from '../redis/redis.service';

/**
 * The SDK's {@link ServerEventBus} (what feeds modern `subscriptions/listen`
 * streams) across a fleet: an event published on one instance reaches the
 * listen streams of every instance, through one Redis channel (`ch:bus`).
 * Local listeners hear an event at once, also while Redis is away; the
 * instance skips its own events coming back from Redis. Pub/sub is
 * at-most-once: an instance disconnected from Redis misses what was
 * published meanwhile (a listen stream's client re-lists on reconnect).
 */
export class RedisServerEventBus implements ServerEventBus {
  private readonly logger = new Logger('ServerEventBus');
  private readonly local = new InMemoryServerEventBus((e) => this.logger.warn({ err: e }, 'a listen stream failed on an event'));
  private readonly origin = randomUUID();
  private readonly channel: string;
  private stop?: () => Promise<void>;

  constructor(private readonly redis: RedisService) {
    this.channel = redis.key('ch', 'bus');
  }

  /** Starts hearing the other instances' events. */
  async start(): Promise<void> {
    this.stop = await this.redis.subscribe(this.channel, (raw) => {
      const { origin, event } = JSON.parse(raw) as { origin: string; event: ServerEvent };
      if (origin !== this.origin) this.local.publish(event);
    });
  }

  async close(): Promise<void> {
    await this.stop?.();
  }

  publish(event: ServerEvent): void {
    this.local.publish(event);
    this.redis.publish(this.channel, JSON.stringify({ origin: this.origin, event })).catch((e: unknown) =>
      this.logger.warn({ err: e, kind: event.kind }, 'could not send an event to the other instances'),
    );
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    return this.local.subscribe(listener);
  }
}
