import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Principal } from '@portico/mcp-core';
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { QueryFailedError, type Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ApiKey } from './api-key.entity';
import { type Actor, CredentialsError, type Verification } from './verification';

/**
 * `ptk_<8 hex>_<43 base64url>`: the prefix part is the visible id (in
 * lists, logs and the audit log), the rest is 256 random bits.
 */
const KEY_FORMAT = /^(ptk_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$/;
const PREFIX_FORMAT = /^ptk_[0-9a-f]{8}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[\p{L}\p{N} _.:@/-]{1,64}$/u;
/** `last_used_at` is written at most this often per key (and instance), not on every request. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/** True when `text` has the shape of an API key (it may still be wrong). */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith('ptk_');
}

/**
 * SHA-256, not a slow password hash: a key carries 256 random bits, so a
 * leaked table cannot be brute-forced whatever the hash speed, and a fast
 * hash keeps per-request verification cheap. No pepper: it would add a
 * fleet-wide secret to rotate for no gain at this entropy.
 */
function digest(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

export interface CreatedApiKey {
  /** The whole key: shown to its creator once, never stored. */
  key: string;
  record: ApiKey;
}

function principalOf(key: ApiKey): Principal {
  return { id: `key:${key.prefix}`, kind: 'service', displayName: key.name, scopes: key.scopes, authMethod: 'api_key' };
}

export type ApiKeyStatus = 'active' | 'revoked' | 'expired';

export function apiKeyStatus(key: Pick<ApiKey, 'revokedAt' | 'expiresAt'>, now = new Date()): ApiKeyStatus {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && key.expiresAt <= now) return 'expired';
  return 'active';
}

/**
 * API keys: created (the key is returned once), listed, revoked, and
 * verified on every request that presents one (`Authorization: Bearer` or
 * `X-API-Key`). Used by the auth guard, the `portico keys` commands and the
 * built-in authorization server's login page.
 */
@Injectable()
export class ApiKeyService {
  private readonly logger = new Logger('ApiKeyService');
  /** When this instance last wrote `last_used_at`, per key id. */
  private readonly lastWritten = new Map<string, number>();

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly audit: AuditService,
  ) {}

  async create(input: { name: string; scopes: string[]; expiresAt?: Date | null }, actor: Actor): Promise<CreatedApiKey> {
    const name = input.name.trim();
    if (!NAME.test(name)) throw new CredentialsError('invalid', 'the key name must be 1 to 64 letters, digits, spaces or _.:@/-');
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new CredentialsError('invalid', 'the expiry must be in the future');
    for (let attempt = 0; ; attempt++) {
      const prefix = `ptk_${randomBytes(4).toString('hex')}`;
      const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
      try {
        const record = await this.keys.save(
          this.keys.create({
            name,
            prefix,
            keyHash: digest(key).toString('hex'),
            scopes: input.scopes,
            expiresAt: input.expiresAt ?? null,
            createdBy: actor.id,
          }),
        );
        this.audit.record({
          kind: 'api_key_created',
          outcome: 'ok',
          principalId: actor.id,
          authMethod: actor.authMethod,
          detail: { keyId: record.id, prefix, name, scopes: record.scopes, expiresAt: record.expiresAt?.toISOString() ?? null },
        });
        return { key, record };
      } catch (e) {
        // 2^32 prefixes: a clash is rare, and answered by drawing another.
        if (attempt < 4 && e instanceof QueryFailedError && (e.driverError as { code?: string })?.code === '23505') continue;
        throw e;
      }
    }
  }

  /** Every key, newest first, revoked and expired ones included. */
  list(): Promise<ApiKey[]> {
    return this.keys.find({ order: { createdAt: 'DESC' } });
  }

  /** Finds a key by its id or its prefix (`ptk_1a2b3c4d`). */
  async find(idOrPrefix: string): Promise<ApiKey | null> {
    if (UUID.test(idOrPrefix)) return this.keys.findOneBy({ id: idOrPrefix.toLowerCase() });
    if (PREFIX_FORMAT.test(idOrPrefix)) return this.keys.findOneBy({ prefix: idOrPrefix });
    return null;
  }

  /**
   * Revokes a key by id or prefix: every later request with it gets 401.
   * Revoking a revoked key changes nothing and is not audited again.
   */
  async revoke(idOrPrefix: string, actor: Actor): Promise<{ key: ApiKey; alreadyRevoked: boolean }> {
    const key = await this.find(idOrPrefix);
    if (!key) throw new CredentialsError('not_found', `no API key with id or prefix "${idOrPrefix.slice(0, 64)}"`);
    if (key.revokedAt) return { key, alreadyRevoked: true };
    key.revokedAt = new Date();
    await this.keys.update({ id: key.id }, { revokedAt: key.revokedAt });
    this.audit.record({
      kind: 'api_key_revoked',
      outcome: 'ok',
      principalId: actor.id,
      authMethod: actor.authMethod,
      detail: { keyId: key.id, prefix: key.prefix, name: key.name },
    });
    return { key, alreadyRevoked: false };
  }

  /**
   * Checks a presented key: its prefix is looked up, the SHA-256 of the
   * whole key compared in constant time, then revocation and expiry. The
   * reasons `revoked` and `expired` are only given for the right key.
   */
  async verify(presented: string): Promise<Verification> {
    const m = KEY_FORMAT.exec(presented);
    if (!m) return { ok: false, reason: 'malformed' };
    const prefix = m[1];
    const account = `key:${prefix}`;
    const key = await this.keys.findOneBy({ prefix });
    if (!key) return { ok: false, reason: 'unknown_key', account };
    const stored = Buffer.from(key.keyHash, 'hex');
    const given = digest(presented);
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return { ok: false, reason: 'bad_secret', account };
    const status = apiKeyStatus(key);
    if (status !== 'active') return { ok: false, reason: status, account };
    this.touch(key);
    return { ok: true, principal: principalOf(key), account };
  }

  /**
   * The principal of an active key by its prefix, or undefined once it is
   * revoked, expired or gone: how the built-in authorization server checks
   * that an account it signed in earlier still stands.
   */
  async principalOf(prefix: string): Promise<Principal | undefined> {
    const key = PREFIX_FORMAT.test(prefix) ? await this.keys.findOneBy({ prefix }) : null;
    return key && apiKeyStatus(key) === 'active' ? principalOf(key) : undefined;
  }

  /** Records the use without a write per request: at most once a minute per key, off the request path. */
  private touch(key: ApiKey): void {
    const now = Date.now();
    const last = this.lastWritten.get(key.id) ?? key.lastUsedAt?.getTime() ?? 0;
    if (now - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastWritten.set(key.id, now);
    this.keys.update({ id: key.id }, { lastUsedAt: new Date(now) }).catch((e: unknown) => {
      this.logger.warn({ err: e, prefix: key.prefix }, 'could not record the last use of an API key');
    });
  }
}
