import { DEFAULT_SCRYPT, hashPassword, parsePasswordHash, verifyPasswordHash } from './password-hash';

/** Cheap parameters for the tests that are not about the defaults. */
const FAST = { ln: 10, r: 8, p: 1 };

describe('password hashes', () => {
  it('hashes with the default parameters written into the string, and verifies', async () => {
    const stored = await hashPassword('correct horse battery staple');

    expect(stored).toMatch(/^scrypt:ln=15:r=8:p=3:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(parsePasswordHash(stored)?.params).toEqual(DEFAULT_SCRYPT);
    await expect(verifyPasswordHash('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(verifyPasswordHash('correct horse battery stapl', stored)).resolves.toBe(false);
  });

  it('salts every hash: the same password twice gives two hashes, both verifying', async () => {
    const [a, b] = await Promise.all([hashPassword('same password', FAST), hashPassword('same password', FAST)]);

    expect(a).not.toBe(b);
    await expect(verifyPasswordHash('same password', a)).resolves.toBe(true);
    await expect(verifyPasswordHash('same password', b)).resolves.toBe(true);
  });

  it('never contains the password, and has no $ or comma (it goes into env files and AUTH_BASIC_USERS)', async () => {
    const stored = await hashPassword('hunter2hunter2', FAST);

    expect(stored).not.toContain('hunter2');
    expect(stored).not.toMatch(/[$,\s]/);
  });

  it('verifies with the parameters stored in the hash, not the current defaults', async () => {
    const stored = await hashPassword('old parameters', { ln: 11, r: 4, p: 2 });

    expect(stored.startsWith('scrypt:ln=11:r=4:p=2:')).toBe(true);
    await expect(verifyPasswordHash('old parameters', stored)).resolves.toBe(true);
  });

  it('treats composed and decomposed Unicode as the same password (NFC)', async () => {
    const stored = await hashPassword('caf\u00e9-latte', FAST);

    await expect(verifyPasswordHash('cafe\u0301-latte', stored)).resolves.toBe(true);
  });

  it.each([
    ['not a hash', 'hunter2'],
    ['another algorithm', '$2b$12$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ['a cost beyond the bounds', 'scrypt:ln=30:r=8:p=1:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a truncated hash', 'scrypt:ln=15:r=8:p=3:AAAAAAAAAAAAAAAAAAAAAA:AAAA'],
  ])('refuses %s as a stored hash', async (_, stored) => {
    expect(parsePasswordHash(stored)).toBeUndefined();
    await expect(verifyPasswordHash('hunter2', stored)).resolves.toBe(false);
  });
});
