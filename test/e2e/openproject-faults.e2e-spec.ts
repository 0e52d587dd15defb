import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { API_KEYS } from '../fakes/openproject/dataset';
import { FakeOpenProject } from '../fakes/openproject/fake-openproject';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';

type CallResult = { isError?: boolean; content: { type: string; text?: string }[] };
const text = (r: CallResult) => r.content.map((c) => c.text ?? '').join('\n');

/** What a database failure inside OpenProject looks like in its 500 answer: nothing of it may reach the model. */
const INTERNALS = ['db.internal', '10.0.0.5', 'PG::ConnectionBad', '10.0.0.7', 'nginx/1.25.3'];

/**
 * OpenProject slow beyond OPENPROJECT_TIMEOUT_MS, failing with 5xx, and gone
 * (connection refused), then back: each tool call ends as a tool error (an
 * `isError` result in both eras, never a protocol error), audited with its
 * `openproject.*` error code; readiness on the status port turns 503 naming
 * openproject and recovers with it; Portico keeps serving throughout.
 */
describe('OpenProject slow, failing or gone', () => {
  const fake = new FakeOpenProject();
  let portico: TestPortico;
  let modern: Client;
  let legacy: V1Client;
  /** When readiness last answered 200: the indicator keeps a success for 5 s. */
  let lastUp = 0;

  beforeAll(async () => {
    await fake.start();
    // Warm: the fake compiles its contract's schemas on first use, which can take longer than the timeout below.
    const apikey = { Authorization: `Basic ${Buffer.from(`apikey:${API_KEYS.admin}`).toString('base64')}` };
    for (const path of ['/api/v3/users/me', '/api/v3/work_packages/101']) expect((await fetch(`${fake.url}${path}`, { headers: apikey })).status).toBe(200);
    portico = await bootPortico({ OPENPROJECT_URL: fake.url, OPENPROJECT_API_KEY: API_KEYS.admin, OPENPROJECT_TIMEOUT_MS: '1500' });
    modern = new Client({ name: 'e2e-op-faults', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
    legacy = new V1Client({ name: 'e2e-op-faults-legacy', version: '1' });
    await legacy.connect(new V1Transport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
    await expectRecovered();
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
    fake.options = {};
  });
  afterAll(async () => {
    await Promise.all([modern?.close(), legacy?.close()]);
    await portico?.stop();
    await fake.stop();
  });

  /** The same call in both eras: the modern client and the v1 (legacy) client. */
  async function getWorkPackageBothEras(): Promise<CallResult[]> {
    const args = { name: 'openproject_get_work_package', arguments: { id: 101 } };
    return [(await modern.callTool(args)) as CallResult, (await legacy.callTool(args)) as CallResult];
  }

  async function ready(): Promise<{ status: number; openproject: Record<string, unknown> }> {
    // A fault must not hide behind the cached success of an earlier probe.
    const wait = lastUp + 5_100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const res = await fetch(`${portico.statusUrl}/health/ready`);
    const body = (await res.json()) as { details?: Record<string, Record<string, unknown>>; error?: Record<string, Record<string, unknown>> };
    if (res.status === 200) lastUp = Date.now();
    return { status: res.status, openproject: (body.details ?? body.error ?? {}).openproject };
  }

  async function expectRecovered(): Promise<void> {
    const results = await getWorkPackageBothEras();
    for (const r of results) {
      expect([r.isError, text(r)]).toEqual([undefined, expect.stringContaining('Design the launch checklist')]);
      expect(r).toMatchObject({ structuredContent: { id: 101, subject: 'Design the launch checklist' } });
    }
    expect(await ready()).toMatchObject({ status: 200, openproject: { status: 'up', state: 'ok' } });
    expect((await modern.callTool({ name: 'get_current_time', arguments: { timezone: 'UTC' } })).isError).toBeFalsy();
    expect((await fetch(`${portico.statusUrl}/health/live`)).status).toBe(200);
  }

  const auditedSince = (since: Date) =>
    portico.auditRows(`kind = 'tool_call' AND tool = 'openproject_get_work_package' AND occurred_at >= $1`, [since]);

  it('slow beyond OPENPROJECT_TIMEOUT_MS: a tool error saying it timed out, audited openproject.timeout; readiness 503, then recovery', async () => {
    const since = new Date();
    fake.options = { delayMs: 4_000 };
    for (const r of await getWorkPackageBothEras()) {
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^OpenProject did not answer GET \/api\/v3\/\S+ within 1\.5 s\. Try again, or narrow the request\.$/);
    }
    const rows = await auditedSince(since);
    expect(rows.map((r) => [r.outcome, r.error_code])).toEqual([
      ['tool_error', 'openproject.timeout'],
      ['tool_error', 'openproject.timeout'],
    ]);
    expect(rows.map((r) => r.era)).toEqual(['modern', 'legacy']);
    expect(await ready()).toMatchObject({ status: 503, openproject: { status: 'down', state: 'unreachable', message: expect.stringContaining('did not answer') } });

    fake.options = {};
    await expectRecovered();
  });

  it('failing with 5xx: a tool error naming the HTTP status and nothing of what OpenProject said, audited openproject.server_error; GETs retried on 502', async () => {
    const since = new Date();
    fake.requests.length = 0;
    fake.options = {
      fail: {
        status: 500,
        body: {
          _type: 'Error',
          errorIdentifier: 'urn:openproject-org:api:v3:errors:InternalServerError',
          message: 'PG::ConnectionBad: connection to server at "db.internal" (10.0.0.5), port 5432 failed',
        },
      },
    };
    for (const r of await getWorkPackageBothEras()) {
      expect(r.isError).toBe(true);
      expect(text(r)).toBe('OpenProject failed with a server error (HTTP 500); try again later.');
    }
    const apiCalls = () => fake.requests.filter((r) => r.path.startsWith('/api/v3/'));
    expect(apiCalls()).toHaveLength(2); // a 500 is not retried: one request in each era

    // A proxy in front of OpenProject answering 502 with its own page: idempotent GETs are retried twice.
    fake.requests.length = 0;
    fake.options = { fail: { status: 502, body: '<html><body><h1>502 Bad Gateway</h1><hr>nginx/1.25.3 upstream 10.0.0.7:3000</body></html>' } };
    const [bad] = await getWorkPackageBothEras();
    expect(bad.isError).toBe(true);
    expect(text(bad)).toBe('OpenProject failed with a server error (HTTP 502); try again later.');
    expect(apiCalls().map((r) => r.method)).toEqual(Array(6).fill('GET')); // 3 tries in each era

    const rows = await auditedSince(since);
    expect(rows.map((r) => [r.outcome, r.error_code])).toEqual(Array(4).fill(['tool_error', 'openproject.server_error']));
    for (const leaked of INTERNALS) expect(JSON.stringify(rows)).not.toContain(leaked);
    const down = await ready();
    expect(down).toMatchObject({ status: 503, openproject: { status: 'down', state: 'liveness_failed' } });
    expect(String(down.openproject.message)).toContain('answered 502');

    fake.options = {};
    await expectRecovered();
  });

  it('gone (connection refused): a tool error saying it is unreachable, audited openproject.unreachable; readiness 503 naming openproject; recovery when it returns', async () => {
    const port = Number(new URL(fake.url).port);
    const since = new Date();
    await fake.stop();
    try {
      for (const r of await getWorkPackageBothEras()) {
        expect(r.isError).toBe(true);
        expect(text(r)).toBe('OpenProject is unreachable right now (ECONNREFUSED). Try again later.');
      }
      const rows = await auditedSince(since);
      expect(rows.map((r) => [r.outcome, r.error_code])).toEqual([
        ['tool_error', 'openproject.unreachable'],
        ['tool_error', 'openproject.unreachable'],
      ]);
      // OPENPROJECT_URL is an internal address: neither the model nor the audit log is told it.
      expect(JSON.stringify(rows)).not.toContain(new URL(fake.url).host);
      expect(await ready()).toMatchObject({ status: 503, openproject: { status: 'down', state: 'unreachable', message: expect.stringContaining('ECONNREFUSED') } });
      expect((await fetch(`${portico.statusUrl}/health/live`)).status).toBe(200);
    } finally {
      await fake.start(port);
    }
    await expectRecovered();
  });
});
