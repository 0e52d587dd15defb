import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { DataSource } from 'typeorm';

/** Facts the adapter needs besides the database. */
export interface OidcPayloadAdapterOptions {
  /**
   * How long a rotated refresh token is still accepted. oidc-provider treats any
   * use of a consumed refresh token as theft and revokes the whole grant; a
   * client whose refresh response got lost would then lose its grant on the
   * retry. Within this window the adapter reports the token as not consumed, so
   * the retry gets a fresh pair (Auth0's "reuse interval", Okta's grace period).
   */
  refreshGraceMs: number;
}

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

/**
 * oidc-provider's storage, one row per model and id in `oidc_payload`, on
 * PostgreSQL or the embedded PGlite alike. `consume` is a conditional UPDATE,
 * so two instances racing to consume one code or refresh token cannot both
 * see it unconsumed afterwards; expired rows are invisible and purged by
 * {@link purgeExpiredPayloads}.
 */
export class OidcPayloadAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly db: DataSource,
    private readonly options: OidcPayloadAdapterOptions,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    // A grant is its own grant id: revoking a grant by id then also finds the grant row.
    const grantId = payload.grantId ?? (this.model === 'Grant' ? id : null);
    await this.db.query(
      `INSERT INTO "oidc_payload" ("model", "id", "payload", "grant_id", "uid", "user_code", "expires_at")
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT ("model", "id") DO UPDATE SET
         "payload" = EXCLUDED."payload", "grant_id" = EXCLUDED."grant_id", "uid" = EXCLUDED."uid",
         "user_code" = EXCLUDED."user_code", "expires_at" = EXCLUDED."expires_at"`,
      [this.model, id, JSON.stringify(payload), grantId, payload.uid ?? null, payload.userCode ?? null, expiresAt],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.findBy(`"id" = $2`, id);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findBy(`"uid" = $2`, uid);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findBy(`"user_code" = $2`, userCode);
  }

  async consume(id: string): Promise<void> {
    await this.db.query(`UPDATE "oidc_payload" SET "consumed_at" = now() WHERE "model" = $1 AND "id" = $2 AND "consumed_at" IS NULL`, [this.model, id]);
  }

  async destroy(id: string): Promise<void> {
    await this.db.query(`DELETE FROM "oidc_payload" WHERE "model" = $1 AND "id" = $2`, [this.model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query(`DELETE FROM "oidc_payload" WHERE "model" = $1 AND "grant_id" = $2`, [this.model, grantId]);
  }

  private async findBy(where: string, value: string): Promise<AdapterPayload | undefined> {
    const rows: Row[] = await this.db.query(
      `SELECT "payload", "consumed_at" FROM "oidc_payload"
       WHERE "model" = $1 AND ${where} AND ("expires_at" IS NULL OR "expires_at" > now())`,
      [this.model, value],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (!row.consumed_at) return row.payload;
    const consumedAt = new Date(row.consumed_at);
    if (this.model === 'RefreshToken' && Date.now() - consumedAt.getTime() < this.options.refreshGraceMs) return row.payload;
    return { ...row.payload, consumed: Math.floor(consumedAt.getTime() / 1000) };
  }
}

/** Deletes rows expired for more than a minute (a request in flight may still read one just expired). Returns how many. */
export async function purgeExpiredPayloads(db: DataSource): Promise<number> {
  return affectedRows(await db.query(`DELETE FROM "oidc_payload" WHERE "expires_at" < now() - interval '1 minute'`));
}

/** TypeORM answers an UPDATE or DELETE on PostgreSQL with `[rows, rowCount]`. */
export function affectedRows(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
