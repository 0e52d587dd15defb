import { randomBytes } from 'node:crypto';

/** Bytes of randomness in a session id (192 bits). */
const ID_BYTES = 24;
/** Ids drawn per call to the random source. */
const POOL_IDS = 64;

let pool = Buffer.alloc(0);
let offset = 0;

/**
 * A new legacy session id: 24 bytes from the CSPRNG as base64url (32
 * characters). The bytes come from a pool filled 64 ids at a time, as Node
 * does for `randomUUID`: one `randomBytes(24)` per session cost about 35 µs
 * of a session's handshake; every byte still serves one id only.
 */
export function newSessionId(): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
