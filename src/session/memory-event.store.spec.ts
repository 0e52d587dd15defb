import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { sessionEventStore, splitEventId } from './event-store.interface';
import { MemoryEventStore } from './memory-event.store';

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });

/** Replays after `lastEventId` and returns what was sent, as [eventId, n] pairs, plus the stream id. */
async function replay(store: MemoryEventStore, sessionId: string, lastEventId: string) {
  const sent: [string, unknown][] = [];
  const streamId = await store.replayEventsAfter(sessionId, lastEventId, async (id, message) => {
    sent.push([id, (message as unknown as { params: { n: number } }).params.n]);
  });
  return { streamId, sent };
}

describe('splitEventId', () => {
  it('splits at the last slash', () => {
    expect(splitEventId('_GET_stream/12')).toEqual({ streamId: '_GET_stream', seq: 12 });
    expect(splitEventId('req/a/b/3')).toEqual({ streamId: 'req/a/b', seq: 3 });
  });

  it.each(['', 'no-slash', '/5', 'stream/x', 'stream/-1', 'stream/1.5', 'stream/99999999999999999999'])(
    'rejects %p',
    (id) => {
      expect(splitEventId(id)).toBeUndefined();
    },
  );
});

describe('MemoryEventStore', () => {
  let store: MemoryEventStore;
  beforeEach(() => {
    store = new MemoryEventStore(100);
  });

  it("keeps nothing for a response stream's priming event: resuming after it replays the whole stream", async () => {
    const priming = await store.storeEvent('s1', 'stream-a', {} as JSONRPCMessage);
    expect(priming).toBe('stream-a/0');
    await store.storeEvent('s1', 'stream-b', note(1));
    await store.storeEvent('s1', 'stream-a', note(2));
    expect(await replay(store, 's1', priming)).toEqual({ streamId: 'stream-a', sent: [['stream-a/2', 2]] });
    // A GET stream's priming event is stored: a new GET stream starts after the earlier ones.
    await store.storeEvent('s1', '_GET_stream', note(3));
    const getPriming = await store.storeEvent('s1', '_GET_stream', {} as JSONRPCMessage);
    expect(getPriming).toBe('_GET_stream/4');
    await store.storeEvent('s1', '_GET_stream', note(5));
    expect((await replay(store, 's1', getPriming)).sent).toEqual([['_GET_stream/5', 5]]);
  });

  it('replays only the later events of the same stream, in order', async () => {
    const first = await store.storeEvent('s1', 'stream-a', note(1));
    await store.storeEvent('s1', 'stream-b', note(2));
    await store.storeEvent('s1', 'stream-a', note(3));
    await store.storeEvent('s1', 'stream-b', note(4));
    await store.storeEvent('s1', 'stream-a', note(5));

    const { streamId, sent } = await replay(store, 's1', first);

    expect(streamId).toBe('stream-a');
    expect(sent).toEqual([
      ['stream-a/3', 3],
      ['stream-a/5', 5],
    ]);
  });

  it('replays nothing after the newest event', async () => {
    await store.storeEvent('s1', 'stream-a', note(1));
    const last = await store.storeEvent('s1', 'stream-a', note(2));

    expect((await replay(store, 's1', last)).sent).toEqual([]);
  });

  it("never replays one session's events to another, even on the shared _GET_stream name", async () => {
    const a0 = await store.storeEvent('session-a', '_GET_stream', note(1));
    await store.storeEvent('session-a', '_GET_stream', note(2));
    await store.storeEvent('session-b', '_GET_stream', note(100));

    expect((await replay(store, 'session-b', a0)).sent).toEqual([]);
    expect((await replay(store, 'session-b', '_GET_stream/0')).sent).toEqual([['_GET_stream/1', 100]]);
    expect((await replay(store, 'session-a', '_GET_stream/0')).sent).toEqual([
      ['_GET_stream/1', 1],
      ['_GET_stream/2', 2],
    ]);
  });

  it('keeps at most maxEvents per session, dropping the oldest', async () => {
    const small = new MemoryEventStore(3);
    for (let n = 1; n <= 5; n++) await small.storeEvent('s1', 'stream-a', note(n));
    await small.storeEvent('s2', 'stream-a', note(50));

    expect((await replay(small, 's1', 'stream-a/0')).sent.map(([, n]) => n)).toEqual([3, 4, 5]);
    expect((await replay(small, 's2', 'stream-a/0')).sent.map(([, n]) => n)).toEqual([50]);
  });

  it('replays a message as it was stored, also after the ring of events has wrapped', async () => {
    const small = new MemoryEventStore(2);
    const result: JSONRPCMessage = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'héllo' }], structuredContent: { n: [1, 2] } } };
    for (let n = 1; n <= 4; n++) await small.storeEvent('s1', 'stream-a', note(n));
    const id = await small.storeEvent('s1', 'stream-b', result);
    const sent: [string, JSONRPCMessage][] = [];
    await small.replayEventsAfter('s1', 'stream-b/0', async (eventId, message) => void sent.push([eventId, message]));
    expect(sent).toEqual([[id, result]]);
    expect((await replay(small, 's1', 'stream-a/0')).sent).toEqual([['stream-a/4', 4]]);
  });

  it('keeps stream ids with slashes and NULs apart from the sequence and the message', async () => {
    const odd = 'req/a\0b/c';
    const first = await store.storeEvent('s1', odd, note(1));
    await store.storeEvent('s1', odd, note(2));

    expect(first).toBe(`${odd}/1`);
    expect(await replay(store, 's1', first)).toEqual({ streamId: odd, sent: [[`${odd}/2`, 2]] });
  });

  it.each(['garbage', '', '/1', 'stream-a/not-a-number'])('rejects the Last-Event-ID %p', async (id) => {
    await store.storeEvent('s1', 'stream-a', note(1));

    await expect(replay(store, 's1', id)).rejects.toThrow('Invalid Last-Event-ID');
  });

  it('forgets a deleted session, and numbers its events afresh', async () => {
    await store.storeEvent('s1', 'stream-a', note(1));
    await store.storeEvent('s2', 'stream-a', note(2));

    await store.deleteSession('s1');

    expect((await replay(store, 's1', 'stream-a/0')).sent).toEqual([]);
    expect((await replay(store, 's2', 'stream-a/0')).sent).toEqual([['stream-a/1', 2]]);
    expect(await store.storeEvent('s1', 'stream-a', note(3))).toBe('stream-a/1');
  });
});

describe('sessionEventStore', () => {
  it("gives the SDK a view of one session's events", async () => {
    const store = new MemoryEventStore(100);
    const a = sessionEventStore(store, 'session-a');
    const b = sessionEventStore(store, 'session-b');

    const first = await a.storeEvent('_GET_stream', note(1));
    await a.storeEvent('_GET_stream', note(2));
    await b.storeEvent('_GET_stream', note(3));

    expect(await a.getStreamIdForEventId?.(first)).toBe('_GET_stream');
    expect(await a.getStreamIdForEventId?.('nonsense')).toBeUndefined();

    const sentToA: string[] = [];
    const stream = await a.replayEventsAfter(first, { send: async (id) => void sentToA.push(id) });
    expect(stream).toBe('_GET_stream');
    expect(sentToA).toEqual(['_GET_stream/2']);

    const sentToB: string[] = [];
    await b.replayEventsAfter(first, { send: async (id) => void sentToB.push(id) });
    expect(sentToB).toEqual([]);
  });
});
