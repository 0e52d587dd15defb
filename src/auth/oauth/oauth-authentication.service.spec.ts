import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { TestIdp } from '../../../test/support/test-idp';
import type { AuditService } from '../../audit/audit.service';
import type { AuditEventInput } from '../../audit/audit-event.input';
import { loadConfig } from '../../config/app-config';
import type { ProtectedResourceService } from '../protected-resource.service';
import { OAuthAuthenticationService } from './oauth-authentication.service';
import { OAuthTokenVerifier } from './oauth-token.verifier';

const RESOURCE = 'https://mcp.example.com/mcp';

describe('OAuthAuthenticationService', () => {
  let idp: TestIdp;
  let rows: AuditEventInput[];
  let service: OAuthAuthenticationService;

  beforeAll(async () => {
    idp = await TestIdp.start();
  });
  afterAll(() => idp.stop());
  beforeEach(() => {
    idp.down = false;
    rows = [];
    const config = loadConfig({ OAUTH_ISSUERS: idp.issuer, OAUTH_JWKS_URL: idp.jwksUrl }, '/srv');
    const verifier = new OAuthTokenVerifier(config, { resourceUrl: RESOURCE } as ProtectedResourceService);
    service = new OAuthAuthenticationService(verifier, { record: (row: AuditEventInput) => rows.push(row) } as unknown as AuditService);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('audits a success once per token, however often it is presented', async () => {
    const first = await idp.mint(RESOURCE, { jti: 'a' });
    for (let i = 0; i < 3; i++) expect((await service.authenticate(first))?.id).toBe(`oauth:${idp.issuer}#alice`);
    expect(rows).toEqual([
      {
        kind: 'auth_success',
        outcome: 'ok',
        principalId: `oauth:${idp.issuer}#alice`,
        authMethod: 'oauth',
        detail: { issuer: idp.issuer, clientId: 'test-client', scopes: ['notes:read'], expiresAt: expect.any(String) },
      },
    ]);

    await service.authenticate(await idp.mint(RESOURCE, { jti: 'b' }));
    expect(rows).toHaveLength(2);
  });

  it('audits every refusal with its reason, never the token', async () => {
    const token = await idp.mint('https://elsewhere.example.com/mcp');

    expect(await service.authenticate(token)).toBeUndefined();
    expect(await service.authenticate(token)).toBeUndefined();

    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      kind: 'auth_failure',
      outcome: 'rejected',
      principalId: `oauth:${idp.issuer}#alice`,
      authMethod: 'oauth',
      errorCode: 'wrong_audience',
      errorMessage: 'the token was not issued for this resource',
      detail: { reason: 'wrong_audience', issuer: idp.issuer, audience: 'https://elsewhere.example.com/mcp' },
    });
    const text = JSON.stringify(rows);
    for (const part of token.split('.')) expect(text).not.toContain(part);
  });

  it('answers 503 when the signing keys cannot be fetched, and audits it as an error', async () => {
    idp.down = true;
    await expect(service.authenticate(await idp.mint(RESOURCE))).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(rows).toEqual([expect.objectContaining({ kind: 'auth_failure', outcome: 'error', errorCode: 'jwks_unavailable' })]);
  });
});
