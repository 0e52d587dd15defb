import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { type EventStore, isResponsePriming, splitEventId } from './event-store.interface';

interface StoredEvent {
  streamId: string;
  seq: number;
  /**
   * The message as its JSON text: a tool result kept as the live object
   * graph the handler returned weighs three to four times its text (about
   * 800 bytes against 200 for an echo), and a session keeps up to
   * `maxEvents` of them.
   */
  json: string;
}

/**
 * `streamId` as one flat string. The SDK names a response stream with
 * `crypto.randomUUID()`, which Node builds by concatenation: a tree of about
 * twenty V8 cons strings (some 600 bytes) that every event kept for the
 * stream would otherwise hold on to. Converting a string to a number
 * flattens it in place, the cheapest way V8 offers.
 */
function flat(value: string): string {
  void Number(value);
  return value;
}

/** One session's events: a ring of at most `maxEvents`, the oldest at `head` once full. */
interface SessionLog {
  seq: number;
  head: number;
  events: StoredEvent[];
}

/**
 * In-process {@link EventStore} keeping at most `maxEvents` events per
 * session (the oldest are dropped first).
 */
export class MemoryEventStore implements EventStore {
  private readonly sessions = new Map<string, SessionLog>();

  constructor(private readonly maxEvents: number) {}

  async storeEvent(sessionId: string, streamId: string, message: JSONRPCMessage): Promise<string> {
    // Sequence 0 is before every event: nothing kept.
    if (isResponsePriming(streamId, message)) return `${streamId}/0`;
    let log = this.sessions.get(sessionId);
    if (!log) this.sessions.set(sessionId, (log = { seq: 0, head: 0, events: [] }));
    const seq = ++log.seq;
    const event: StoredEvent = { streamId: flat(streamId), seq, json: JSON.stringify(message) };
    if (log.events.length < this.maxEvents) log.events.push(event);
    else {
      // Full: the newest takes the oldest's slot (no array shifting on every event).
      log.events[log.head] = event;
      log.head = (log.head + 1) % log.events.length;
    }
    return `${streamId}/${seq}`;
  }

  async replayEventsAfter(
    sessionId: string,
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => Promise<void>,
  ): Promise<string> {
    const last = splitEventId(lastEventId);
    if (!last) throw new Error('Invalid Last-Event-ID');
    const log = this.sessions.get(sessionId);
    if (log) {
      // Oldest first; taken before sending, since events stored meanwhile move the ring.
      const ordered = [...log.events.slice(log.head), ...log.events.slice(0, log.head)];
      for (const event of ordered) {
        if (event.streamId === last.streamId && event.seq > last.seq) {
          await send(`${event.streamId}/${event.seq}`, JSON.parse(event.json) as JSONRPCMessage);
        }
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
