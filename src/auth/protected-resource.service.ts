import { getOAuthProtectedResourceMetadataUrl, type OAuthProtectedResourceMetadata } from '@modelcontextprotocol/server';
import { Inject, Injectable } from '@nestjs/common';
import { McpRegistry, type Principal } from '@portico/mcp-core';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AUTH_REALM } from './auth.constants';
import { externalScope } from './oauth/scope-map';

/** Where RFC 9728 metadata is served, whatever the canonical URL: the root form and the path form for `/mcp`. */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** An RFC 6750 auth-param value as a quoted-string. */
const quoted = (value: string) => `"${value.replace(/[\\"]/g, '\\$&')}"`;

/**
 * This server as an OAuth protected resource (RFC 9728): its canonical URL
 * (`PUBLIC_BASE_URL` + `/mcp`, default `http://HOST:PORT/mcp`) that access
 * tokens must name as their audience, the metadata document clients discover
 * the authorization servers from, and the `WWW-Authenticate` challenges
 * (401, and 403 `insufficient_scope` for step-up) that point to it.
 */
@Injectable()
export class ProtectedResourceService {
  private port: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: McpRegistry,
  ) {
    this.port = config.http.port;
  }

  /** Told the bound port once listening (`PORT=0` picks one), for the default base URL. */
  listening(port: number): void {
    this.port = port;
  }

  /** `PUBLIC_BASE_URL`, else `http://HOST:PORT`. */
  get baseUrl(): string {
    if (this.config.http.publicBaseUrl) return this.config.http.publicBaseUrl;
    const { host } = this.config.http;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** The canonical resource URL: what tokens must carry in `aud` and what PRM's `resource` says. */
  get resourceUrl(): string {
    return `${this.baseUrl}/mcp`;
  }

  /** The path-form metadata URL (`<origin>/.well-known/oauth-protected-resource<path>/mcp`), as 401s advertise it. */
  get metadataUrl(): string {
    return getOAuthProtectedResourceMetadataUrl(new URL(this.resourceUrl));
  }

  /**
   * The paths this app answers with the metadata document: the root form, the
   * path form for `/mcp`, and, behind a proxy that serves Portico under a
   * prefix, the path form with that prefix (the proxy forwards it as is).
   */
  get metadataPaths(): string[] {
    const pathForm = new URL(this.metadataUrl).pathname;
    return [...new Set([PROTECTED_RESOURCE_METADATA_PATH, `${PROTECTED_RESOURCE_METADATA_PATH}/mcp`, pathForm])];
  }

  /**
   * The issuers clients may get tokens from: the built-in authorization server
   * (`OAUTH_SERVER=builtin`, issuer = the base URL) first, then OAUTH_ISSUERS.
   */
  authorizationServers(): string[] {
    const { oauth } = this.config.auth;
    return [...(oauth.builtinIssuer ? [this.baseUrl] : []), ...oauth.issuers];
  }

  /** The RFC 9728 document. Without an authorization server it names none: only static credentials are accepted then. */
  metadata(): OAuthProtectedResourceMetadata {
    const { oauth } = this.config.auth;
    return {
      resource: this.resourceUrl,
      ...(oauth.enabled && { authorization_servers: this.authorizationServers() }),
      scopes_supported: this.scopesSupported(),
      bearer_methods_supported: ['header'],
      resource_name: 'Portico',
    };
  }

  /** Every scope clients may request: OAUTH_SCOPES and those the registered tools, resources and prompts declare, as the IdP names them. */
  scopesSupported(): string[] {
    const declared = [...this.registry.tools(), ...this.registry.resources(), ...this.registry.resourceTemplates(), ...this.registry.prompts()].flatMap(
      (entry) => entry.definition.scopes ?? [],
    );
    return [...new Set([...this.config.auth.oauth.scopes, ...declared.map((s) => externalScope(s, this.config.auth.oauth.scopeMap))])].sort();
  }

  /**
   * The scopes a 401 asks a client to request: OAUTH_SCOPES, else every scope
   * the tools declare (the default tool set). None unless OAuth is configured.
   */
  challengeScopes(): string[] {
    const { oauth } = this.config.auth;
    if (!oauth.enabled) return [];
    if (oauth.scopes.length) return oauth.scopes;
    return [...new Set(this.registry.tools().flatMap((t) => t.definition.scopes ?? []))].map((s) => externalScope(s, oauth.scopeMap)).sort();
  }

  /** `WWW-Authenticate` of a 401: realm, the error if a credential was refused, resource_metadata, and the scopes to request. */
  unauthorizedChallenge(error?: 'invalid_token' | 'invalid_request'): string {
    const scopes = this.challengeScopes();
    return [
      `Bearer realm=${quoted(AUTH_REALM)}`,
      ...(error ? [`error=${quoted(error)}`] : []),
      `resource_metadata=${quoted(this.metadataUrl)}`,
      ...(scopes.length ? [`scope=${quoted(scopes.join(' '))}`] : []),
    ].join(', ');
  }

  /**
   * For an OAuth principal calling a tool it lacks scopes for: the
   * `WWW-Authenticate` of the 403 that lets the client step up (MCP
   * 2025-11-25), naming the scopes it already has plus those the tool needs,
   * as the IdP names them. Undefined when the call may go ahead, for other
   * principals (they keep "no such tool"), and for unknown tools.
   */
  insufficientScopeChallenge(body: unknown, principal: Principal): string | undefined {
    if (principal.authMethod !== 'oauth' || principal.scopes.includes('*')) return undefined;
    const message = body as { method?: unknown; params?: { name?: unknown } } | undefined;
    if (message?.method !== 'tools/call' || typeof message.params?.name !== 'string') return undefined;
    const required = this.registry.getTool(message.params.name)?.definition.scopes ?? [];
    if (required.every((s) => principal.scopes.includes(s))) return undefined;
    const { scopeMap } = this.config.auth.oauth;
    const scopes = [...new Set([...principal.scopes, ...required].map((s) => externalScope(s, scopeMap)))];
    return `Bearer error="insufficient_scope", scope=${quoted(scopes.join(' '))}, resource_metadata=${quoted(this.metadataUrl)}`;
  }
}
