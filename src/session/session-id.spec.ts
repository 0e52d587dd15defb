import { newSessionId } from './session-id';

describe('newSessionId', () => {
  it('gives 32 base64url characters (24 random bytes), never the same twice', () => {
    const ids = Array.from({ length: 1000 }, () => newSessionId());

    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
