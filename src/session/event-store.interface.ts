import type { EventStore as SdkEventStore, JSONRPCMessage } from '@modelcontextprotocol/server';

/**
 * Server-sent events kept for `Last-Event-ID` resumability, scoped by
 * session: one session's stream can never be replayed to another (the SDK
 * names every standalone GET stream `_GET_stream`, so an unscoped store would
 * mix sessions). Memory by default; Redis for many instances.
 */
export interface EventStore {
  storeEvent(sessionId: string, streamId: string, message: JSONRPCMessage): Promise<string>;
  /** Sends the events of the stream `lastEventId` belongs to that came after it; returns that stream's id. */
  replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => Promise<void>,
  ): Promise<string>;
  /** Forgets a session's events (session deleted or expired). */
  deleteSession(sessionId: string): Promise<void>;
  /** The stream an event id belongs to; undefined when the id is not one of this store's. */
  streamIdOf(eventId: string): string | undefined;
}

export const EVENT_STORE = Symbol('EVENT_STORE');

/** The SDK's name for every session's standalone GET stream. */
export const GET_STREAM = '_GET_stream';

/**
 * A response stream's priming event (the empty message the SDK stores first on every POST
 * stream): resuming after it means "every event of that stream", which a store can say with
 * an id before all of its positions, storing nothing. A GET stream's priming event is stored:
 * a new GET stream starts after the session's earlier events.
 */
export function isResponsePriming(streamId: string, message: JSONRPCMessage): boolean {
  if (streamId === GET_STREAM) return false;
  for (const _ in message) return false;
  return true;
}

/** Event ids are `<streamId>/<sequence>`, so the stream is known from the id alone. */
export function splitEventId(eventId: string): { streamId: string; seq: number } | undefined {
  const slash = eventId.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const seq = Number(eventId.slice(slash + 1));
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { streamId: eventId.slice(0, slash), seq };
}

/**
 * The SDK's per-transport EventStore view of one session. A class, so that
 * an idle session keeps one small object rather than three closures and
 * their context.
 */
class SessionEventStore implements SdkEventStore {
  constructor(
    private readonly store: EventStore,
    private readonly sessionId: string,
  ) {}

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    return this.store.storeEvent(this.sessionId, streamId, message);
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.store.streamIdOf(eventId);
  }

  replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    return this.store.replayEventsAfter(this.sessionId, lastEventId, send);
  }
}

/** The SDK's per-transport EventStore view of one session. */
export function sessionEventStore(store: EventStore, sessionId: string): SdkEventStore {
  return new SessionEventStore(store, sessionId);
}
