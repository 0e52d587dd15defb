import { newEventId } from './event-id';

describe('newEventId', () => {
  it('makes RFC 9562 version 7 UUIDs carrying the time, unique and in time order', () => {
    const at = Date.UTC(2026, 10, 26, 10, 0, 0, 123);
    const id = newEventId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);

    const ids = Array.from({ length: 2000 }, (_, i) => newEventId(at + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    // Ids of later milliseconds sort after earlier ones (text order is the uuid order).
    for (let i = 100; i < ids.length; i += 100) expect(ids[i] > ids[i - 100]).toBe(true);
  });
});
