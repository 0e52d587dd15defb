import { randomBytes } from 'node:crypto';
import { KeyCipher } from './key-cipher';

describe('KeyCipher (AES-256-GCM for stored OpenProject keys)', () => {
  const cipher = new KeyCipher(randomBytes(32));
  const apiKey = 'opkey-alice-1111111111111111111111111111111111111111';

  it('round-trips a key, and never stores it in the clear', () => {
    const sealed = cipher.encrypt(apiKey, 'token:alice');

    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('opkey');
    expect(cipher.decrypt(sealed, 'token:alice')).toBe(apiKey);
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt(apiKey, 'token:alice')).not.toBe(cipher.encrypt(apiKey, 'token:alice'));
  });

  it('refuses a ciphertext moved to another principal', () => {
    const sealed = cipher.encrypt(apiKey, 'token:alice');

    expect(() => cipher.decrypt(sealed, 'token:bob')).toThrow();
  });

  it('refuses an altered ciphertext and another encryption key', () => {
    const sealed = cipher.encrypt(apiKey, 'token:alice');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3], 'base64url');
    flipped[0] ^= 1;

    expect(() => cipher.decrypt([...parts.slice(0, 3), flipped.toString('base64url')].join('.'), 'token:alice')).toThrow();
    expect(() => new KeyCipher(randomBytes(32)).decrypt(sealed, 'token:alice')).toThrow();
  });

  it('names its key with an id that differs between keys', () => {
    expect(cipher.keyId).toHaveLength(16);
    expect(new KeyCipher(randomBytes(32)).keyId).not.toBe(cipher.keyId);
  });
});
