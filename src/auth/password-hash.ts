import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters; `ln` is log2 of N. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/**
 * The parameters new hashes get: N = 2^15, r = 8, p = 3 — one of OWASP's
 * equivalent scrypt settings (Password Storage Cheat Sheet), chosen for its
 * 32 MiB per verification rather than the 128 MiB of N = 2^17, p = 1; about
 * 0.2 s on one core. Stored hashes carry their own parameters, so raising
 * these later needs no migration (old hashes keep verifying).
 */
export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 3 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on stored parameters, so a hand-made hash cannot ask for gigabytes or minutes. */
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

/**
 * `scrypt:ln=15:r=8:p=3:<salt>:<hash>`, salt and hash in unpadded base64url.
 * No `$` and no `,`: the string goes into environment variables and
 * `.env` files (where `$` is interpolated) and into the comma-separated
 * `AUTH_BASIC_USERS`.
 */
const FORMAT = /^scrypt:ln=(\d{1,2}):r=(\d{1,2}):p=(\d{1,2}):([A-Za-z0-9_-]{16,88}):([A-Za-z0-9_-]{43})$/;

export interface ParsedPasswordHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/** The parts of a stored hash, or undefined when it is not one this version can verify. */
export function parsePasswordHash(stored: string): ParsedPasswordHash | undefined {
  const m = FORMAT.exec(stored);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const key of ['ln', 'r', 'p'] as const) {
    const [min, max] = LIMITS[key];
    if (params[key] < min || params[key] > max) return undefined;
  }
  return { params, salt: Buffer.from(m[4], 'base64url'), hash: Buffer.from(m[5], 'base64url') };
}

function derive(password: string, salt: Buffer, { ln, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** ln;
  // Node refuses above 32 MiB by default; allow what the parameters need, with headroom.
  const maxmem = 256 * N * r + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** A new hash of `password` with a random per-password salt and the parameters written into it. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return `scrypt:ln=${params.ln}:r=${params.r}:p=${params.p}:${salt.toString('base64url')}:${hash.toString('base64url')}`;
}

/**
 * True when `password` matches `stored`; false for a wrong password or a
 * stored value that is not a valid hash. Compares in constant time.
 */
export async function verifyPasswordHash(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed) return false;
  const derived = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(derived, parsed.hash);
}
