import { Inject, Injectable, Logger } from '@nestjs/common';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** A new key is published this long before it signs anything, so every instance (reloading each minute) knows it first. */
export const PUBLISH_AHEAD_MS = 5 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** Serialises rotation across instances sharing one database. */
const ROTATION_LOCK = 'portico.oauth_server_keys';

type KeyUse = 'sig' | 'cookie';

interface KeyRow {
  kid: string;
  use: KeyUse;
  material: string;
  created_at: Date;
  active_from: Date;
}

/** The keys in force, as the authorization server and the resource server use them. */
export interface KeySet {
  /** The key that signs access tokens now. */
  current: JWK & { kid: string };
  /** Private signing keys to publish, current first: current, the next one (published ahead), the previous one. */
  signing: (JWK & { kid: string })[];
  /** Public halves of {@link signing}: the JWKS. */
  publicJwks: { keys: JWK[] };
  /** Cookie signing keys, current first (oidc-provider signs with the first, accepts all). */
  cookieKeys: string[];
  /** Identifies this set; changes when any key does. */
  fingerprint: string;
}

/** Where the secret is generated when OAUTH_SERVER_SECRET is not set (embedded database only). */
export const SECRET_FILE = 'oauth-server-secret';

/**
 * The built-in authorization server's keys, kept in the database
 * (`oauth_server_keys`) so that every instance signs with the same key and
 * verifies every instance's tokens: ES256 signing keys and cookie keys,
 * encrypted at rest with AES-256-GCM under a key derived from
 * `OAUTH_SERVER_SECRET` (or a secret generated in `DATA_DIR`).
 *
 * Rotation: every `OAUTH_SERVER_KEY_ROTATION_DAYS` a new key is added,
 * published {@link PUBLISH_AHEAD_MS} before it starts signing; the previous key
 * stays published (tokens it signed are still valid) until the one after
 * replaces it. The check runs at start and with every reload, under an
 * advisory lock, so two instances never rotate twice.
 */
@Injectable()
export class KeyStoreService {
  private readonly logger = new Logger('AuthorizationServerKeys');
  private readonly encryptionKey: Buffer;
  /** Keys the login and consent forms' CSRF tokens with (derived from the same secret on every instance). */
  readonly csrfKey: Buffer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
  ) {
    const secret = config.authorizationServer.secret ?? this.fileSecret();
    this.encryptionKey = createHash('sha256').update(`portico oauth-server keys v1\0${secret}`).digest();
    this.csrfKey = createHmac('sha256', secret).update('portico oauth-server csrf v1').digest();
  }

  /** Rotates what is due, then reads the keys in force. */
  async load(now = new Date()): Promise<KeySet> {
    const rows = await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [ROTATION_LOCK]);
      for (const use of ['sig', 'cookie'] as const) await this.rotateIfDue(tx, use, now);
      return (await tx.query(
        `SELECT "kid", "use", "material", "created_at", "active_from" FROM "oauth_server_keys" WHERE "retired_at" IS NULL ORDER BY "active_from" DESC`,
      )) as KeyRow[];
    });
    return this.keySet(rows, now);
  }

  /** Adds a new signing key and cookie key now (published ahead, signing in five minutes): `portico oauth rotate-keys`. */
  async rotateNow(now = new Date()): Promise<string> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [ROTATION_LOCK]);
      await this.insert(tx, 'cookie', new Date(now.getTime() + PUBLISH_AHEAD_MS));
      return this.insert(tx, 'sig', new Date(now.getTime() + PUBLISH_AHEAD_MS));
    });
  }

  private async rotateIfDue(tx: { query: DataSource['query'] }, use: KeyUse, now: Date): Promise<void> {
    const rows = (await tx.query(
      `SELECT "kid", "active_from" FROM "oauth_server_keys" WHERE "use" = $1 AND "retired_at" IS NULL ORDER BY "active_from" DESC`,
      [use],
    )) as Pick<KeyRow, 'kid' | 'active_from'>[];
    const active = rows.filter((r) => new Date(r.active_from) <= now);
    const pending = rows.filter((r) => new Date(r.active_from) > now);
    if (active.length === 0 && pending.length === 0) {
      await this.insert(tx, use, now);
      this.logger.log(`generated the first ${use === 'sig' ? 'signing' : 'cookie'} key`);
      return;
    }
    const newest = rows[0];
    const dueAt = new Date(newest.active_from).getTime() + this.config.authorizationServer.keyRotationDays * DAY_MS;
    if (pending.length === 0 && now.getTime() >= dueAt) {
      const kid = await this.insert(tx, use, new Date(now.getTime() + PUBLISH_AHEAD_MS));
      this.logger.log({ kid, use }, 'rotation due: published a new key, signing in five minutes');
    }
    // Keep the current and the previous active key; older ones signed nothing still valid.
    const retire = active.slice(2).map((r) => r.kid);
    if (retire.length) await tx.query(`UPDATE "oauth_server_keys" SET "retired_at" = $1 WHERE "kid" = ANY($2)`, [now, retire]);
  }

  private async insert(tx: { query: DataSource['query'] }, use: KeyUse, activeFrom: Date): Promise<string> {
    let kid: string;
    let material: string;
    if (use === 'sig') {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(privateKey);
      kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url').slice(0, 16);
      material = JSON.stringify({ ...jwk, kid, alg: 'ES256', use: 'sig' });
    } else {
      kid = `cookie-${randomBytes(8).toString('hex')}`;
      material = JSON.stringify({ secret: randomBytes(32).toString('base64url') });
    }
    await tx.query(`INSERT INTO "oauth_server_keys" ("kid", "use", "material", "active_from") VALUES ($1, $2, $3, $4)`, [
      kid,
      use,
      this.encrypt(material, kid),
      activeFrom,
    ]);
    return kid;
  }

  private keySet(rows: KeyRow[], now: Date): KeySet {
    const ordered = (use: KeyUse) => {
      const mine = rows.filter((r) => r.use === use);
      const active = mine.filter((r) => new Date(r.active_from) <= now);
      const pending = mine.filter((r) => new Date(r.active_from) > now);
      // Current first, then the next one (soonest first), then the previous one.
      return [...active.slice(0, 1), ...pending.reverse(), ...active.slice(1, 2)];
    };
    const signing = ordered('sig').map((r) => JSON.parse(this.decrypt(r.material, r.kid)) as JWK & { kid: string });
    const cookieKeys = ordered('cookie').map((r) => (JSON.parse(this.decrypt(r.material, r.kid)) as { secret: string }).secret);
    const publicJwks = { keys: signing.map(({ d: _d, ...pub }) => pub) };
    const fingerprint = [...ordered('sig'), ...ordered('cookie')].map((r) => r.kid).join(',');
    return { current: signing[0], signing, publicJwks, cookieKeys, fingerprint };
  }

  private encrypt(plain: string, kid: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(kid));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, data, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  private decrypt(material: string, kid: string): string {
    const [version, iv, data, tag] = material.split('.');
    try {
      if (version !== 'v1') throw new Error(`unknown format ${version}`);
      const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(kid));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new Error(
        `cannot decrypt the authorization server's key ${kid}: OAUTH_SERVER_SECRET differs from the one it was stored with (every instance must share one)`,
        { cause: e },
      );
    }
  }

  /** The secret in `<DATA_DIR>/oauth-server-secret`, generated (mode 0600) on first use. */
  private fileSecret(): string {
    const file = join(this.config.dataDir, SECRET_FILE);
    if (existsSync(file)) {
      const secret = readFileSync(file, 'utf8').trim();
      if (secret.length >= 32) return secret;
    }
    mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, secret + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    this.logger.log(`OAUTH_SERVER_SECRET is not set: generated one in ${file}`);
    return secret;
  }
}
