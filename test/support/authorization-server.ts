import type { OAuthClientMetadata, OAuthClientProvider, StoredOAuthClientInformation, StoredOAuthTokens } from '@modelcontextprotocol/client';
import { Global, Module } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIMD_FETCH, type CimdFetch } from '../../src/authorization-server/authorization-server.service';
import { type Step, TestBrowser } from './oauth-browser';

/** The same OAUTH_SERVER_SECRET for every test app: on a shared PostgreSQL each must decrypt the keys another stored. */
export const AS_SECRET = 'portico-test-oauth-server-secret-0123456789';

/** Environment for an app with the built-in authorization server. */
export function builtinEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { OAUTH_SERVER: 'builtin', OAUTH_SERVER_SECRET: AS_SECRET, ...extra };
}

/**
 * An MCP client's OAuth state, in memory: the official v2 client's
 * {@link OAuthClientProvider}. The authorization redirect is only recorded;
 * the test drives it with a {@link TestBrowser}.
 */
export class MemoryOAuthClient implements OAuthClientProvider {
  information?: StoredOAuthClientInformation;
  stored?: StoredOAuthTokens;
  authorizationUrl?: URL;
  private verifier = '';

  constructor(
    readonly redirectUrl: string,
    readonly clientMetadata: OAuthClientMetadata,
    readonly clientMetadataUrl?: string,
  ) {}

  clientInformation() {
    return this.information;
  }
  saveClientInformation(info: StoredOAuthClientInformation) {
    this.information = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.stored = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/**
 * Signs in with `key` and approves, in `browser`, starting from an authorize
 * URL; returns the redirect back to the client (with `code`, `state`, `iss`)
 * and the pages seen on the way.
 */
export async function approveInBrowser(browser: TestBrowser, authorizeUrl: string, redirectUrl: string, key: string) {
  const pages: Step[] = [];
  let result = await browser.go(authorizeUrl, redirectUrl);
  if (result.page && result.page.body.includes('Sign in to Portico')) {
    pages.push(result.page);
    result = await browser.submit(result.page, 'login', { method: 'key', key }, redirectUrl);
  }
  if (result.page && result.page.body.includes('Allow')) {
    pages.push(result.page);
    result = await browser.submit(result.page, 'confirm', {}, redirectUrl);
  }
  if (!result.redirectedTo) throw new Error(`the flow did not come back to the client: ${result.page?.status} ${result.page?.body.slice(0, 400)}`);
  return { callback: new URL(result.redirectedTo), pages };
}

/** A self-signed certificate for 127.0.0.1, made with the machine's openssl. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portico-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Serves Client ID Metadata Documents over TLS on 127.0.0.1, counting fetches. */
export class CimdServer {
  fetches = 0;
  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    readonly cert: string,
    private readonly documents: Map<string, object>,
  ) {}

  static async start(): Promise<CimdServer> {
    const tls = selfSignedCertificate();
    const documents = new Map<string, object>();
    let self: CimdServer | undefined;
    const server = createServer(tls, (req, res) => {
      const doc = documents.get(req.url ?? '');
      self!.fetches++;
      if (!doc) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' }).end(JSON.stringify(doc));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new CimdServer(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`, tls.cert, documents);
    return self;
  }

  /** Publishes `document` at `path` (its `client_id` is set to the URL); returns the URL. */
  publish(path: string, document: Record<string, unknown>): string {
    const url = `${this.baseUrl}${path}`;
    this.documents.set(path, { ...document, client_id: url });
    return url;
  }

  /**
   * The fetch the authorization server gets in tests instead of its
   * SSRF-guarded one (which refuses loopback by design): trusts this server's
   * certificate, and nothing else.
   */
  fetch(): CimdFetch {
    return (url) =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(new URL(String(url)), { method: 'GET', ca: this.cert, headers: { accept: 'application/json' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers }));
          });
        });
        req.on('error', reject);
        req.end();
      });
  }

  /** A global module providing {@link fetch} as the authorization server's CIMD fetch. */
  module() {
    const fetchImpl = this.fetch();
    @Global()
    @Module({ providers: [{ provide: CIMD_FETCH, useValue: fetchImpl }], exports: [CIMD_FETCH] })
    class CimdFetchModule {}
    return CimdFetchModule;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
