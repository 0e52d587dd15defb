import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { RedisService } from '../redis/redis.service';
import { type EventStore, GET_STREAM, isResponsePriming } from './event-store.interface';

export { GET_STREAM };

/** The doorbell a session's stream rings when a message for its GET stream is stored (see {@link RedisEventStore}). */
export function sessionChannel(redis: RedisService, sessionId: string): string {
  return redis.key('ch', 's', sessionId);
}

/** What a doorbell or control message on a session's channel says. */
export type SessionSignal = { t: 'event' } | { t: 'closed' } | { t: 'takeover'; holder: string };

/** A stored event: its id as clients see it (`<streamId>/<redis stream id>`), and the message. */
export interface StoredEvent {
  eventId: string;
  /** The Redis stream entry id (`<ms>-<seq>`), ordered across instances. */
  position: string;
  message: JSONRPCMessage;
}

const EVENT_ID = /^(.+)\/(\d+-\d+)$/;
const PAGE = 500;

/*
 * KEYS: the session's event stream. ARGV: max events, ttl ms, stream id,
 * message, doorbell channel ('' for none), doorbell message. One command
 * rather than a pipeline of three: less to encode and parse per event.
 */
const STORE = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 's', ARGV[3], 'm', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return id`;

type Scripted = { porticoEventStore(...args: (string | number)[]): Promise<string> };

const EVENT_SIGNAL = JSON.stringify({ t: 'event' } satisfies SessionSignal);

/**
 * {@link EventStore} in Redis: one Redis stream per session (`e:<id>`),
 * capped at EVENT_STORE_MAX_EVENTS entries (the oldest dropped first) and
 * expiring SESSION_IDLE_TTL after its last event. Each entry carries the
 * SDK stream it belongs to (a POST response stream, or `_GET_stream`); event
 * ids are `<streamId>/<entry id>`, so the stream is known from the id and
 * entries are ordered whichever instance wrote them. A message stored for
 * `_GET_stream` also rings the session's doorbell (pub/sub, same round trip)
 * so that the instance holding the session's GET stream delivers it.
 */
export class RedisEventStore implements EventStore {
  private readonly scripted: RedisService['client'] & Scripted;

  constructor(
    private readonly redis: RedisService,
    private readonly maxEvents: number,
    private readonly ttlMs: number,
  ) {
    redis.client.defineCommand('porticoEventStore', { numberOfKeys: 1, lua: STORE });
    this.scripted = redis.client as RedisService['client'] & Scripted;
  }

  async storeEvent(sessionId: string, streamId: string, message: JSONRPCMessage): Promise<string> {
    // Position 0-0 is before every entry: no round trip.
    if (isResponsePriming(streamId, message)) return `${streamId}/0-0`;
    const doorbell = streamId === GET_STREAM ? sessionChannel(this.redis, sessionId) : '';
    const position = await this.scripted.porticoEventStore(
      this.key(sessionId),
      this.maxEvents,
      this.ttlMs,
      streamId,
      JSON.stringify(message),
      doorbell,
      EVENT_SIGNAL,
    );
    return `${streamId}/${position}`;
  }

  async replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => Promise<void>,
  ): Promise<string> {
    const last = EVENT_ID.exec(lastEventId);
    if (!last) throw new Error('Invalid Last-Event-ID');
    for (const event of await this.readAfter(sessionId, last[1], last[2])) await send(event.eventId, event.message);
    return last[1];
  }

  /** The events of `streamId` stored after `position`, oldest first (priming events left out). */
  async readAfter(sessionId: string, streamId: string, position: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for (let from = position; ; ) {
      const page = (await this.redis.client.xrange(this.key(sessionId), `(${from}`, '+', 'COUNT', PAGE)) as [string, string[]][];
      for (const [id, fields] of page) {
        const entry = pairs(fields);
        if (entry.s !== streamId || entry.m === '{}') continue;
        events.push({ eventId: `${streamId}/${id}`, position: id, message: JSON.parse(entry.m) as JSONRPCMessage });
      }
      if (page.length < PAGE) return events;
      from = page[page.length - 1][0];
    }
  }

  /** The position of the session's newest event (`0-0` when it has none): a new GET stream starts after it. */
  async latest(sessionId: string): Promise<string> {
    const [newest] = (await this.redis.client.xrevrange(this.key(sessionId), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return newest?.[0] ?? '0-0';
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.redis.client.del(this.key(sessionId));
  }

  streamIdOf(eventId: string): string | undefined {
    return EVENT_ID.exec(eventId)?.[1];
  }

  private key(sessionId: string): string {
    return this.redis.key('e', sessionId);
  }
}

function pairs(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]] = fields[i + 1];
  return out;
}
