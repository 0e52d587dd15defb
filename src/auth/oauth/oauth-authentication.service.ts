import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';
import { hash } from 'node:crypto';
import { AuditService } from '../../audit/audit.service';
import { OAuthTokenError, OAuthTokenVerifier } from './oauth-token.verifier';

/** Tokens remembered for success sampling; past this, expired ones are dropped, then the oldest. */
const MAX_REMEMBERED = 10_000;

/**
 * Bearer tokens that are OAuth access tokens: verifies them and writes the
 * audit trail. Every refusal is an `auth_failure` row with its reason (never
 * the token). A success is an `auth_success` row the first time this
 * instance sees a token, not on each request: a token is one authentication
 * (a sign-in or a refresh at the authorization server), so a client
 * refreshing hourly leaves one row an hour, however many calls it makes.
 */
@Injectable()
export class OAuthAuthenticationService {
  private readonly logger = new Logger('OAuth');
  /** SHA-256 of tokens already audited as a success → when that token expires (ms). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly verifier: OAuthTokenVerifier,
    private readonly audit: AuditService,
  ) {}

  /** Whether `token` is for this service to judge (OAuth configured, JWT-shaped). */
  accepts(token: string): boolean {
    return this.verifier.accepts(token);
  }

  /** The token's principal, or undefined when it is refused (answered 401). Throws 503 when the signing keys cannot be fetched. */
  async authenticate(token: string): Promise<Principal | undefined> {
    try {
      const verified = await this.verifier.verify(token);
      if (this.firstSight(token, verified.expiresAt)) {
        this.audit.record({
          kind: 'auth_success',
          outcome: 'ok',
          principalId: verified.principal.id,
          authMethod: 'oauth',
          detail: { issuer: verified.issuer, clientId: verified.clientId, scopes: verified.scopes, expiresAt: new Date(verified.expiresAt * 1000).toISOString() },
        });
      }
      return verified.principal;
    } catch (e) {
      if (!(e instanceof OAuthTokenError)) throw e;
      const { principalId, issuer, audience } = e.facts;
      this.logger.log({ reason: e.reason, principalId, issuer, audience }, `access token refused: ${e.message}`);
      this.audit.record({
        kind: 'auth_failure',
        outcome: e.reason === 'jwks_unavailable' ? 'error' : 'rejected',
        principalId,
        authMethod: 'oauth',
        errorCode: e.reason,
        errorMessage: e.message,
        detail: { reason: e.reason, issuer, audience },
      });
      if (e.reason === 'jwks_unavailable') throw new ServiceUnavailableException('The identity provider\'s signing keys cannot be fetched: try again shortly');
      return undefined;
    }
  }

  private firstSight(token: string, expiresAt: number): boolean {
    const key = hash('sha256', token, 'base64url');
    if (this.seen.has(key)) return false;
    if (this.seen.size >= MAX_REMEMBERED) {
      const now = Date.now();
      for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
      if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    }
    this.seen.set(key, expiresAt * 1000);
    return true;
  }
}
