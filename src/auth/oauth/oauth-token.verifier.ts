import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { Principal } from '@portico/mcp-core';
import { hash } from 'node:crypto';
import { APP_CONFIG, type AppConfig, type OAuthResourceServerConfig } from '../../config/app-config';
import { ProtectedResourceService } from '../protected-resource.service';
import { LOCAL_ISSUER, type LocalIssuer } from './local-issuer';
import { type AccessTokenClaims, oauthPrincipal, tokenClientId, tokenScopes } from './oauth-principal';

/** Why an access token was refused; recorded in the audit log (`detail.reason`). */
export type OAuthFailureReason =
  | 'malformed'
  | 'unsupported_alg'
  | 'wrong_typ'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim'
  | 'unknown_key'
  | 'bad_signature'
  | 'revoked'
  | 'jwks_unavailable';

/** An access token refused, or one that could not be checked (`jwks_unavailable`). Never carries the token. */
export class OAuthTokenError extends Error {
  constructor(
    readonly reason: OAuthFailureReason,
    message: string,
    /** Facts for the audit row: the principal when the signature was good, the issuer and audience the token names. */
    readonly facts: { principalId?: string; issuer?: string; audience?: string } = {},
  ) {
    super(message);
    this.name = 'OAuthTokenError';
  }
}

/** A verified access token: who it is for, and what the audit log keeps of it. */
export interface VerifiedAccessToken {
  principal: Principal;
  issuer: string;
  clientId?: string;
  /** As the token carries them (before OAUTH_SCOPE_MAP). */
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** Asymmetric algorithms only: a JWKS never holds a shared secret, and `none` is never a signature. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Longest claim value copied into an audit row. */
const FACT_MAX = 200;

const fact = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value.slice(0, FACT_MAX);
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string').join(' ').slice(0, FACT_MAX);
  return undefined;
};

/** The JWKS could not be fetched or read: the token is not at fault. */
function unavailable(e: unknown): boolean {
  return (
    e instanceof errors.JWKSTimeout ||
    e instanceof errors.JWKSInvalid ||
    (e instanceof errors.JOSEError && e.code === 'ERR_JOSE_GENERIC') ||
    (e instanceof TypeError && /fetch/i.test(e.message))
  );
}

/**
 * Verifies OAuth 2.1 access tokens (JWT, RFC 9068) for this resource server:
 * signature against the configured JWKS (fetched with a timeout, cached, and
 * refetched at most every 30 s for an unknown key id; the last keys fetched
 * stay in use while the JWKS URL is unreachable), an asymmetric algorithm,
 * `typ`, issuer from the allow-list, audience equal to the canonical resource
 * URL (RFC 8707), `exp`/`nbf` with a small leeway, and a subject. The token
 * itself is never kept, logged or passed on.
 *
 * With the built-in authorization server (`OAUTH_SERVER=builtin`), its issuer
 * (the base URL) is accepted too; its keys are read in-process (no HTTP round
 * trip to itself), and a token whose grant was revoked is refused at once.
 */
/** How long a verified token is answered from memory (never past its `exp`). */
export const VERIFIED_TOKEN_TTL_MS = 30_000;
const VERIFIED_TOKENS_MAX = 10_000;

interface VerifiedEntry {
  verified: VerifiedAccessToken;
  until: number;
  /** The built-in server's grant, checked again on every use (revocation is immediate). */
  grantId?: string;
}

@Injectable()
export class OAuthTokenVerifier {
  private readonly logger = new Logger('OAuth');
  /** Tokens verified lately, by SHA-256 (the token itself is not kept). */
  private readonly verified = new Map<string, VerifiedEntry>();
  private readonly oauth: OAuthResourceServerConfig;
  private readonly keys?: ReturnType<typeof createRemoteJWKSet>;
  private localKeys?: { source: JSONWebKeySet; keys: ReturnType<typeof createLocalJWKSet> };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly resource: ProtectedResourceService,
    @Optional() @Inject(LOCAL_ISSUER) private readonly local?: LocalIssuer,
  ) {
    this.oauth = config.auth.oauth;
    if (this.oauth.enabled && this.oauth.jwksUrl) {
      this.keys = createRemoteJWKSet(new URL(this.oauth.jwksUrl), {
        timeoutDuration: this.oauth.jwksTimeoutMs,
        cacheMaxAge: this.oauth.jwksCacheMs,
      });
    }
  }

  /**
   * Whether this verifier judges `token`: OAuth is configured and the token
   * is a compact JWS whose header names an algorithm (a static token with
   * dots in it is left to the static tokens).
   */
  accepts(token: string): boolean {
    if ((this.keys === undefined && !this.builtinIssuer) || !JWS_COMPACT.test(token)) return false;
    try {
      return typeof decodeProtectedHeader(token).alg === 'string';
    } catch {
      return false;
    }
  }

  /**
   * The verified token, or throws an {@link OAuthTokenError}. A token that
   * verified is answered from memory for {@link VERIFIED_TOKEN_TTL_MS} (at
   * most until its `exp`): the signature check is most of the cost of an
   * OAuth request, and the same token comes with every request of a client.
   * A grant of the built-in server is still checked each time; a key the
   * IdP withdraws stops a token already seen within that time.
   */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const key = hash('sha256', token, 'base64url');
    const seen = this.verified.get(key);
    // A revoked grant falls through to the full check, which refuses it with every fact.
    if (seen && seen.until > Date.now() && (seen.grantId === undefined || (await this.local!.grantActive(seen.grantId)))) return seen.verified;
    if (seen) this.verified.delete(key);
    const verified = await this.check(token);
    if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, { ...verified, until: Math.min(Date.now() + VERIFIED_TOKEN_TTL_MS, verified.verified.expiresAt * 1000) });
    return verified.verified;
  }

  private async check(token: string): Promise<{ verified: VerifiedAccessToken; grantId?: string }> {
    let unverified: JWTPayload;
    let header: { alg?: string; typ?: string };
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new OAuthTokenError('malformed', 'not a JWT');
    }
    const facts = { issuer: fact(unverified.iss), audience: fact(unverified.aud) };
    if (!header.alg || !ALGORITHMS.includes(header.alg)) throw new OAuthTokenError('unsupported_alg', `algorithm ${String(header.alg)} is not accepted`, facts);
    const typ = header.typ?.toLowerCase().replace(/^application\//, '');
    if (typ === undefined ? this.oauth.requireAtJwt : typ !== 'at+jwt' && (this.oauth.requireAtJwt || typ !== 'jwt')) {
      throw new OAuthTokenError('wrong_typ', `typ ${String(header.typ)} is not an access token type`, facts);
    }
    // Before any key lookup: a foreign issuer's token never makes us fetch the JWKS.
    const local = this.builtinIssuer !== undefined && unverified.iss === this.builtinIssuer;
    if (typeof unverified.iss !== 'string' || !(local || (this.keys && this.oauth.issuers.includes(unverified.iss)))) {
      throw new OAuthTokenError('wrong_issuer', 'issuer is not accepted', facts);
    }

    const options: JWTVerifyOptions = {
      algorithms: ALGORITHMS,
      issuer: unverified.iss,
      audience: [this.resource.resourceUrl, ...this.oauth.extraAudiences],
      clockTolerance: this.oauth.clockSkewSeconds,
      requiredClaims: ['exp', 'sub'],
    };
    let claims: AccessTokenClaims;
    try {
      claims = (local ? (await jwtVerify(token, this.localKeySet(), options)).payload : await this.verifySignature(token, options)) as AccessTokenClaims;
    } catch (e) {
      throw this.refusal(e, facts);
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new OAuthTokenError('missing_claim', 'sub must be a non-empty string', facts);
    const principal = oauthPrincipal(claims, this.oauth.scopeMap);
    const grantId = local && typeof claims.grant_id === 'string' ? claims.grant_id : undefined;
    if (grantId !== undefined && !(await this.local!.grantActive(grantId))) {
      throw new OAuthTokenError('revoked', 'the grant this token was issued from has been revoked', { ...facts, principalId: principal.id });
    }
    return { verified: { principal, issuer: claims.iss, clientId: tokenClientId(claims), scopes: tokenScopes(claims), expiresAt: claims.exp }, grantId };
  }

  /** The built-in authorization server's issuer (this server's base URL), when it runs in this process. */
  private get builtinIssuer(): string | undefined {
    return this.oauth.builtinIssuer && this.local ? this.resource.baseUrl : undefined;
  }

  /** The built-in server's keys, re-imported only when its key set changes (rotation). */
  private localKeySet(): ReturnType<typeof createLocalJWKSet> {
    const source = this.local!.jwks();
    if (this.localKeys?.source !== source) this.localKeys = { source, keys: createLocalJWKSet(source) };
    return this.localKeys.keys;
  }

  private async verifySignature(token: string, options: JWTVerifyOptions): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, this.keys!, options)).payload;
    } catch (e) {
      const stale = unavailable(e) ? this.keys!.jwks() : undefined;
      if (!stale) throw e;
      // The IdP's JWKS endpoint is down: the keys it served last still verify its tokens.
      this.logger.warn({ err: e, jwksUrl: this.oauth.jwksUrl }, 'JWKS unreachable: verifying with the keys fetched last');
      return (await jwtVerify(token, createLocalJWKSet(stale), options)).payload;
    }
  }

  /** Maps a jose error to the reason recorded; the principal is named only when the signature was good. */
  private refusal(e: unknown, facts: { issuer?: string; audience?: string }): OAuthTokenError {
    if (e instanceof errors.JWTExpired || e instanceof errors.JWTClaimValidationFailed) {
      const payload = e.payload as JWTPayload;
      const principalId = typeof payload.iss === 'string' && typeof payload.sub === 'string' ? `oauth:${payload.iss}#${payload.sub}` : undefined;
      const withPrincipal = { ...facts, principalId };
      if (e instanceof errors.JWTExpired) return new OAuthTokenError('expired', 'the token has expired', withPrincipal);
      if (e.reason === 'missing') return new OAuthTokenError('missing_claim', `the token has no ${e.claim} claim`, withPrincipal);
      if (e.claim === 'aud') return new OAuthTokenError('wrong_audience', 'the token was not issued for this resource', withPrincipal);
      if (e.claim === 'iss') return new OAuthTokenError('wrong_issuer', 'issuer is not accepted', withPrincipal);
      if (e.claim === 'nbf') return new OAuthTokenError('not_yet_valid', 'the token is not valid yet', withPrincipal);
      return new OAuthTokenError('malformed', `claim ${e.claim} is not valid`, withPrincipal);
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) return new OAuthTokenError('bad_signature', 'signature verification failed', facts);
    if (e instanceof errors.JWKSNoMatchingKey) return new OAuthTokenError('unknown_key', 'no key in the JWKS matches the token', facts);
    if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return new OAuthTokenError('unsupported_alg', 'algorithm is not accepted', facts);
    if (e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid) return new OAuthTokenError('malformed', 'not a valid JWT', facts);
    if (unavailable(e)) {
      this.logger.error({ err: e, jwksUrl: this.oauth.jwksUrl }, 'JWKS unreachable and no keys fetched before: OAuth tokens cannot be verified');
      return new OAuthTokenError('jwks_unavailable', 'the signing keys cannot be fetched', facts);
    }
    this.logger.error({ err: e }, 'unexpected error verifying an access token');
    return new OAuthTokenError('malformed', 'the token could not be verified', facts);
  }
}
