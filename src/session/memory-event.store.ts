import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { type EventStore, isResponsePriming, splitEventId } from './event-store.interface';

interface StoredEvent {
  streamId: string;
  seq: number;
  message: JSONRPCMessage;
}

/**
 * In-process {@link EventStore} keeping at most `maxEvents` events per
 * session (the oldest are dropped first).
 */
export class MemoryEventStore implements EventStore {
  private readonly sessions = new Map<string, { seq: number; events: StoredEvent[] }>();

  constructor(private readonly maxEvents: number) {}

  async storeEvent(sessionId: string, streamId: string, message: JSONRPCMessage): Promise<string> {
    // Sequence 0 is before every event: nothing kept.
    if (isResponsePriming(streamId, message)) return `${streamId}/0`;
    let log = this.sessions.get(sessionId);
    if (!log) this.sessions.set(sessionId, (log = { seq: 0, events: [] }));
    const seq = ++log.seq;
    log.events.push({ streamId, seq, message });
    if (log.events.length > this.maxEvents) log.events.splice(0, log.events.length - this.maxEvents);
    return `${streamId}/${seq}`;
  }

  async replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => Promise<void>,
  ): Promise<string> {
    const last = splitEventId(lastEventId);
    if (!last) throw new Error('Invalid Last-Event-ID');
    for (const event of this.sessions.get(sessionId)?.events ?? []) {
      if (event.streamId === last.streamId && event.seq > last.seq) {
        await send(`${event.streamId}/${event.seq}`, event.message);
      }
    }
    return last.streamId;
  }

  async deleteSession(sessionId: string): Promise<void> {
    this.sessions.delete(sessionId);
  }

  streamIdOf(eventId: string): string | undefined {
    return splitEventId(eventId)?.streamId;
  }
}
