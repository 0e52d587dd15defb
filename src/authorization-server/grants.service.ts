import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { affectedRows } from './oidc-payload.adapter';

/** A remembered consent: one account's authorization of one client. */
export interface GrantSummary {
  grantId: string;
  accountId: string;
  clientId: string;
  /** From the client's registration (dynamically registered clients only). */
  clientName?: string;
  scopes: string[];
  expiresAt?: Date;
}

/** Who revokes: a principal id, or `cli:<os user>` for the `portico oauth` command. */
export interface RevokingActor {
  id: string;
  authMethod: string;
}

const POSITIVE_CACHE_MS = 10_000;

/**
 * The built-in authorization server's grants (remembered consents) as stored
 * by oidc-provider in `oidc_payload`: find one for an account and client,
 * list them, revoke one (the grant and every refresh token and code issued
 * from it), and tell the resource server whether a token's grant still stands.
 */
@Injectable()
export class GrantsService {
  /** Grant id → until when it is known to be active (a revocation on another instance takes at most this long). */
  private readonly active = new Map<string, number>();

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The newest live grant of `accountId` for `clientId`: consent given once is remembered across sign-ins. */
  async findFor(accountId: string, clientId: string): Promise<string | undefined> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT "id" FROM "oidc_payload"
       WHERE "model" = 'Grant' AND "payload"->>'accountId' = $1 AND "payload"->>'clientId' = $2
         AND ("expires_at" IS NULL OR "expires_at" > now())
       ORDER BY ("payload"->>'iat')::bigint DESC LIMIT 1`,
      [accountId, clientId],
    );
    return rows[0]?.id;
  }

  /** Live grants, of one account when given, of one grant id when given. */
  async list(accountId?: string, grantId?: string): Promise<GrantSummary[]> {
    const rows: { id: string; payload: Record<string, unknown>; expires_at: Date | null; client_name: string | null }[] = await this.db.query(
      `SELECT g."id", g."payload", g."expires_at", c."payload"->>'client_name' AS "client_name"
       FROM "oidc_payload" g
       LEFT JOIN "oidc_payload" c ON c."model" = 'Client' AND c."id" = g."payload"->>'clientId'
       WHERE g."model" = 'Grant' AND (g."expires_at" IS NULL OR g."expires_at" > now())
         AND ($1::text IS NULL OR g."payload"->>'accountId' = $1) AND ($2::text IS NULL OR g."id" = $2)
       ORDER BY g."payload"->>'accountId', (g."payload"->>'iat')::bigint`,
      [accountId ?? null, grantId ?? null],
    );
    return rows.map((r) => ({
      grantId: r.id,
      accountId: String(r.payload.accountId),
      clientId: String(r.payload.clientId),
      ...(r.client_name && { clientName: r.client_name }),
      scopes: grantScopes(r.payload),
      ...(r.expires_at && { expiresAt: new Date(r.expires_at) }),
    }));
  }

  /** Deletes the grant and everything issued from it; access tokens from it are refused from then on. False when there was none. */
  async revoke(grantId: string, actor: RevokingActor): Promise<boolean> {
    const [grant] = await this.list(undefined, grantId);
    const deleted = affectedRows(await this.db.query(`DELETE FROM "oidc_payload" WHERE "grant_id" = $1`, [grantId]));
    this.forget(grantId);
    if (!grant && deleted === 0) return false;
    this.audit.record({
      kind: 'consent_revoked',
      outcome: 'ok',
      principalId: actor.id,
      authMethod: actor.authMethod,
      detail: { grantId, accountId: grant?.accountId, clientId: grant?.clientId, via: 'admin' },
    });
    return true;
  }

  /** Whether the grant still stands; a positive answer is cached for ten seconds. */
  async isActive(grantId: string): Promise<boolean> {
    const until = this.active.get(grantId);
    if (until && until > Date.now()) return true;
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM "oidc_payload" WHERE "model" = 'Grant' AND "id" = $1 AND ("expires_at" IS NULL OR "expires_at" > now())`,
      [grantId],
    );
    if (rows.length === 0) {
      this.active.delete(grantId);
      return false;
    }
    if (this.active.size > 10_000) this.active.clear();
    this.active.set(grantId, Date.now() + POSITIVE_CACHE_MS);
    return true;
  }

  /** Drops the cached answer for a grant revoked in this process. */
  forget(grantId: string): void {
    this.active.delete(grantId);
  }
}

/** The scopes a stored grant holds: its OpenID scope and every resource's scopes. */
function grantScopes(payload: Record<string, unknown>): string[] {
  const scopes = new Set<string>();
  const add = (value: unknown) => typeof value === 'string' && value.split(' ').filter(Boolean).forEach((s) => scopes.add(s));
  add(payload.openid && (payload.openid as { scope?: string }).scope);
  for (const resource of Object.values((payload.resources as Record<string, string>) ?? {})) add(resource);
  return [...scopes].sort();
}
