import { MemorySessionStore } from './memory-session.store';
import type { SessionRecord } from './session-store.interface';

const MINUTE = 60_000;

describe('MemorySessionStore', () => {
  let now: number;
  let store: MemorySessionStore;

  const open = (id: string, principalId = 'token:alice'): Promise<string[]> =>
    store.create({ id, principalId, createdAt: now, lastSeenAt: now, clientName: 'test-client' });

  beforeEach(() => {
    now = 1_700_000_000_000;
    store = new MemorySessionStore({ idleTtlMs: 30 * MINUTE, maxAgeMs: 120 * MINUTE, maxPerPrincipal: 3 }, () => now);
  });

  it('returns a saved session by id', async () => {
    await open('s1');

    expect(await store.get('s1')).toEqual<SessionRecord>({
      id: 's1',
      principalId: 'token:alice',
      createdAt: now,
      lastSeenAt: now,
      clientName: 'test-client',
    });
    expect(await store.get('unknown')).toBeUndefined();
  });

  it('expires a session idle for longer than the idle TTL', async () => {
    await open('s1');

    now += 30 * MINUTE;
    expect(await store.get('s1')).toBeDefined();
    now += 1;
    expect(await store.get('s1')).toBeUndefined();
    expect(await store.touch('s1')).toBeUndefined();
  });

  it('slides the idle TTL on touch but not on get', async () => {
    await open('touched');
    await open('read');

    now += 20 * MINUTE;
    expect((await store.touch('touched'))?.lastSeenAt).toBe(now);
    expect(await store.get('read')).toBeDefined();

    now += 20 * MINUTE; // 40 minutes after creation, 20 after the touch
    expect(await store.get('touched')).toBeDefined();
    expect(await store.get('read')).toBeUndefined();
  });

  it('expires a session at its maximum age even when it is kept busy', async () => {
    await open('s1');

    for (let t = 0; t < 120; t += 10) {
      now += 10 * MINUTE;
      expect(await store.touch('s1')).toBeDefined();
    }
    now += 1;
    expect(await store.touch('s1')).toBeUndefined();
  });

  it('evicts the oldest session of a principal over the cap and returns its id', async () => {
    expect(await open('a1')).toEqual([]);
    now += 1;
    expect(await open('a2')).toEqual([]);
    now += 1;
    expect(await open('a3')).toEqual([]);
    expect(await open('b1', 'token:bob')).toEqual([]);

    now += 1;
    expect(await open('a4')).toEqual(['a1']);

    expect(await store.get('a1')).toBeUndefined();
    for (const id of ['a2', 'a3', 'a4', 'b1']) expect(await store.get(id)).toBeDefined();
    expect(await store.count()).toBe(4);
  });

  it('over the cap, evicts the session idle the longest, not the oldest', async () => {
    await open('a1');
    now += 1;
    await open('a2');
    now += 1;
    await open('a3');
    now += 1;
    await store.touch('a1'); // a1 is the oldest but in use; a2 has been idle the longest
    now += 1;
    expect(await open('a4')).toEqual(['a2']);
    now += 1;
    await store.touch('a3');
    expect(await open('a5')).toEqual(['a1']);
    for (const id of ['a3', 'a4', 'a5']) expect(await store.get(id)).toBeDefined();
  });

  it('does not let expired sessions count toward the cap', async () => {
    await open('busy');
    await open('idle1');
    await open('idle2');

    now += 20 * MINUTE;
    await store.touch('busy');
    now += 20 * MINUTE; // idle1 and idle2 have expired, busy has not

    expect(await open('new')).toEqual([]);
    expect(await store.get('busy')).toBeDefined();
  });

  it('deletes a session once: true when it existed, false otherwise', async () => {
    await open('s1');

    expect(await store.delete('s1')).toBe(true);
    expect(await store.get('s1')).toBeUndefined();
    expect(await store.delete('s1')).toBe(false);
    expect(await store.delete('never')).toBe(false);
  });

  it('frees a cap slot when a session is deleted', async () => {
    await open('a1');
    await open('a2');
    await open('a3');
    await store.delete('a2');

    expect(await open('a4')).toEqual([]);
    expect(await store.get('a1')).toBeDefined();
  });

  it('counts only live sessions', async () => {
    await open('old');
    now += 20 * MINUTE;
    await open('young', 'token:bob');
    expect(await store.count()).toBe(2);

    now += 15 * MINUTE; // old is 35 minutes idle, young 15
    expect(await store.count()).toBe(1);
    expect(await store.get('young')).toBeDefined();
  });

  it('keeps stored records from being changed through returned copies', async () => {
    await open('s1');

    const copy = (await store.get('s1'))!;
    copy.principalId = 'token:mallory';

    expect((await store.get('s1'))?.principalId).toBe('token:alice');
  });

  it('updates protocol version and client name of a live session', async () => {
    await open('s1');

    await store.update('s1', { protocolVersion: '2025-06-18', clientName: 'inspector' });

    expect(await store.get('s1')).toMatchObject({ protocolVersion: '2025-06-18', clientName: 'inspector' });
  });
});
