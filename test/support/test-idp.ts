import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type TestAlg = 'ES256' | 'RS256';

export interface MintOptions {
  alg?: TestAlg;
  /** The JOSE `typ` header; `null` leaves it out. Default `at+jwt`. */
  typ?: string | null;
  /** Sign with a key the JWKS does not hold, under the published key id (a forged signature). */
  forged?: boolean;
  /** A key id the JWKS does not list. */
  kid?: string;
}

/**
 * A stand-in for an external identity provider, on 127.0.0.1: an ES256 and an
 * RS256 signing key, their JWKS served over HTTP, and access tokens minted
 * the way an IdP would (claims overridable, any of them removable with
 * `undefined`).
 */
export class TestIdp {
  /** JWKS requests served, to see caching at work. */
  jwksRequests = 0;
  /** While true, the JWKS endpoint answers 503. */
  down = false;

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    private readonly keys: Record<TestAlg, { privateKey: CryptoKey; kid: string }>,
    private readonly forgers: Record<TestAlg, CryptoKey>,
  ) {}

  static async start(): Promise<TestIdp> {
    const keys = {} as Record<TestAlg, { privateKey: CryptoKey; kid: string }>;
    const forgers = {} as Record<TestAlg, CryptoKey>;
    const jwks: JWK[] = [];
    for (const alg of ['ES256', 'RS256'] as const) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `test-${alg.toLowerCase()}`;
      keys[alg] = { privateKey, kid };
      jwks.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
      forgers[alg] = (await generateKeyPair(alg)).privateKey;
    }
    let idp: TestIdp | undefined;
    const server = createServer((req, res) => {
      if (req.url !== '/jwks') return void res.writeHead(404).end();
      idp!.jwksRequests++;
      if (idp!.down) return void res.writeHead(503).end();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: jwks }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    idp = new TestIdp(server, `http://127.0.0.1:${port}/realms/test`, keys, forgers);
    return idp;
  }

  get jwksUrl(): string {
    return `${new URL(this.issuer).origin}/jwks`;
  }

  /**
   * An access token for `aud`: `sub` alice, scope `notes:read`, valid five
   * minutes, ES256 and `typ: at+jwt` unless told otherwise.
   */
  async mint(aud: string, claims: JWTPayload = {}, options: MintOptions = {}): Promise<string> {
    const alg = options.alg ?? 'ES256';
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: this.issuer,
      sub: 'alice',
      aud,
      iat: now,
      exp: now + 300,
      scope: 'notes:read',
      client_id: 'test-client',
      name: 'Alice Example',
      ...claims,
    };
    for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
    const header = { alg, kid: options.kid ?? this.keys[alg].kid, ...(options.typ !== null && { typ: options.typ ?? 'at+jwt' }) };
    return new SignJWT(payload).setProtectedHeader(header).sign(options.forged ? this.forgers[alg] : this.keys[alg].privateKey);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
