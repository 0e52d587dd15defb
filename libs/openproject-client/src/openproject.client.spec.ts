import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { filter } from './filters';
import { OpenProjectClient } from './openproject.client';
import { OpenProjectError, OpenProjectErrorCode } from './openproject.error';

type Reply = { status: number; body?: string; headers?: Record<string, string> };

describe('OpenProjectClient', () => {
  let server: Server;
  let url: string;
  let seen: IncomingMessage[];
  let replies: Reply[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      req.resume();
      const reply = replies.shift() ?? { status: 200, body: '{"_type":"User","id":1,"name":"A","_links":{}}' };
      res.writeHead(reply.status, { 'content-type': 'application/hal+json', ...reply.headers });
      if (reply.status === 0) return res.destroy();
      res.end(reply.body ?? '');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  const made: OpenProjectClient[] = [];
  beforeEach(() => {
    seen = [];
    replies = [];
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((c) => c.close()));
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  const track = (c: OpenProjectClient) => (made.push(c), c);
  const client = (options: Partial<ConstructorParameters<typeof OpenProjectClient>[0]> = {}) =>
    track(new OpenProjectClient({ baseUrl: `${url}/`, timeoutMs: 2000, ...options }, 'secret-key'));
  const failure = (p: Promise<unknown>): Promise<OpenProjectError> =>
    p.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (e: unknown) => e as OpenProjectError,
    );
  const error = (name: string, message: string, status = 400) => ({
    status,
    body: JSON.stringify({ _type: 'Error', errorIdentifier: `urn:openproject-org:api:v3:errors:${name}`, message }),
  });

  it('authenticates with Basic apikey:<key>, sends the optional X-Forwarded-Proto and Host, and encodes filters', async () => {
    await client({ forwardedProto: 'https', hostHeader: 'openproject' }).workPackages({ project: 'apollo', filters: [filter('status', 'o')], offset: 2, pageSize: 10 });

    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('apikey:secret-key').toString('base64')}`);
    expect(seen[0].headers['x-forwarded-proto']).toBe('https');
    expect(seen[0].headers.host).toBe('openproject');
    const sent = new URL(seen[0].url!, url);
    expect(sent.pathname).toBe('/api/v3/projects/apollo/work_packages');
    expect(JSON.parse(sent.searchParams.get('filters')!)).toEqual([{ status: { operator: 'o', values: [] } }]);
    expect([sent.searchParams.get('offset'), sent.searchParams.get('pageSize')]).toEqual(['2', '10']);
  });

  it('sends filters=[] when asked for no filter (all work packages, closed included)', async () => {
    await client().workPackages({ filters: [] });

    expect(new URL(seen[0].url!, url).searchParams.get('filters')).toBe('[]');
  });

  it('does not follow a redirect to https, and names the OpenProject setting', async () => {
    replies.push({ status: 301, headers: { location: 'https://openproject/api/v3/users/me' } });

    const e = await failure(client().me());

    expect(e.code).toBe(OpenProjectErrorCode.HttpsRedirect);
    expect(e.message).toContain('OPENPROJECT_HTTPS=true');
    expect(e.message).toContain('OPENPROJECT_FORWARDED_PROTO=https');
    expect(seen).toHaveLength(1);
  });

  it('recognises the host-name rejection and names OPENPROJECT_ADDITIONAL__HOST__NAMES', async () => {
    replies.push({ status: 400, body: 'Invalid host_name configuration', headers: { 'content-type': 'text/plain' } });

    const e = await failure(client({ hostHeader: 'portico-op:8080' }).me());

    expect(e.code).toBe(OpenProjectErrorCode.HostNameRejected);
    expect(e.message).toContain('OPENPROJECT_ADDITIONAL__HOST__NAMES=portico-op');
  });

  it.each([
    ['Unauthenticated', 401, OpenProjectErrorCode.Unauthenticated],
    ['MissingPermission', 403, OpenProjectErrorCode.PermissionDenied],
    ['NotFound', 404, OpenProjectErrorCode.NotFound],
    ['UpdateConflict', 409, OpenProjectErrorCode.Conflict],
    ['PropertyConstraintViolation', 422, OpenProjectErrorCode.Validation],
    ['InvalidQuery', 400, OpenProjectErrorCode.InvalidRequest],
  ])('maps errorIdentifier %s (%i) to its code and keeps OpenProject\'s message', async (name, status, code) => {
    replies.push(error(name, `message of ${name}`, status));

    const e = await failure(client().workPackage(1));

    expect(e).toBeInstanceOf(OpenProjectError);
    expect([e.code, e.message, e.details.status]).toEqual([code, `message of ${name}`, status]);
  });

  it('joins the messages of MultipleErrors', async () => {
    replies.push({
      status: 422,
      body: JSON.stringify({ _type: 'Error', errorIdentifier: 'urn:openproject-org:api:v3:errors:MultipleErrors', message: 'Multiple field constraints have been violated.', _embedded: { errors: [{ message: "Subject can't be blank." }, { message: 'Type is invalid.' }] } }),
    });

    const e = await failure(client().createWorkPackage(1, {}));

    expect([e.code, e.message]).toEqual([OpenProjectErrorCode.Validation, "Subject can't be blank. Type is invalid."]);
  });

  it('retries an idempotent GET after 503, but never a POST', async () => {
    replies.push({ status: 503 }, { status: 200, body: '{"_type":"User","id":7,"name":"B","_links":{}}' });
    expect((await client().me()).id).toBe(7);
    expect(seen).toHaveLength(2);

    seen = [];
    replies.push({ status: 503 });
    expect((await failure(client().createTimeEntry({}))).code).toBe(OpenProjectErrorCode.ServerError);
    expect(seen).toHaveLength(1);
  });

  it('reports a timeout and an unreachable host as such', async () => {
    const slow = createServer(() => undefined);
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const port = (slow.address() as AddressInfo).port;
    const timedOut = await failure(track(new OpenProjectClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200, retries: 0 }, 'k')).me());
    slow.closeAllConnections();
    await new Promise<void>((r) => slow.close(() => r()));
    const unreachable = await failure(track(new OpenProjectClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 0 }, 'k')).me());

    expect(timedOut.code).toBe(OpenProjectErrorCode.Timeout);
    expect(unreachable.code).toBe(OpenProjectErrorCode.Unreachable);
    expect(unreachable.message).toContain('ECONNREFUSED');
  });

  it('gives each user a client on the same pool, with their own key', async () => {
    await client().withApiKey('bob-key').me();

    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('apikey:bob-key').toString('base64')}`);
  });
});
