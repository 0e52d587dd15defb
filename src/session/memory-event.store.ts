import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { type EventStore, isResponsePriming, splitEventId } from './event-store.interface';

/**
 * One kept event as one flat string: `<streamId>\0<seq>\0<message JSON>`
 * (JSON text never holds a raw NUL). A session keeps up to `maxEvents` of
 * them, so their size is what sustained traffic costs: an echo result kept as
 * an object, its stream id (Node's `randomUUID` builds it by concatenation, a
 * tree of some twenty V8 cons strings) and a record took about 800 bytes;
 * this string takes about 150.
 */
function encode(streamId: string, seq: number, message: JSONRPCMessage): string {
  // `join` makes a flat string (a `+` or template would keep a cons tree).
  return [streamId, seq, JSON.stringify(message)].join('\0');
}

function decode(event: string): { streamId: string; seq: number; json: string } {
  const end = event.lastIndexOf('\0');
  const start = event.lastIndexOf('\0', end - 1);
  return { streamId: event.slice(0, start), seq: Number(event.slice(start + 1, end)), json: event.slice(end + 1) };
}

/** One session's events: a ring of at most `maxEvents`, the oldest at `head` once full. */
interface SessionLog {
  seq: number;
  head: number;
  events: string[];
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
    const event = encode(streamId, seq, message);
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
      for (const { streamId, seq, json } of ordered.map(decode)) {
        if (streamId === last.streamId && seq > last.seq) await send(`${streamId}/${seq}`, JSON.parse(json) as JSONRPCMessage);
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
