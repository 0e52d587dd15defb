import fc from 'fast-check';
import type { TestPortico } from '../support/portico';
import { TOKENS } from '../support/portico';
import { LEGACY } from '../support/raw-mcp';
import { bootHostilePortico, MODERN, MODERN_META, openLegacySession } from './hostile-portico';
import { problems, send } from './raw-http';

/**
 * Property-based fuzzing of /mcp with fast-check: generated JSON-RPC bodies,
 * well-formed-ish and broken, in both eras. Bounded: FUZZ_RUNS per property
 * (200 by default); FUZZ_SEED replays a failure (the seed is printed at the
 * start and in every failure report).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

/** Methods worth hitting; long-lived ones (subscriptions/listen, the slow probe tools) are left to the corpus. */
const METHODS = [
  'initialize', 'ping', 'tools/list', 'tools/call', 'resources/list', 'resources/read', 'resources/templates/list', 'resources/subscribe',
  'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel', 'server/discover', 'notifications/initialized',
  'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed',
];
const TOOLS = ['greet_user', 'store_secret', 'time_get_current_time', 'no_such_tool', '__proto__'];

const id = fc.oneof(fc.integer(), fc.string({ maxLength: 40 }), fc.constant(null), fc.double(), fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }));
const method = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
const meta = (version: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(version === MODERN ? MODERN_META : undefined) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('io.modelcontextprotocol/protocolVersion', 'io.modelcontextprotocol/clientCapabilities', 'progressToken', 'x'), fc.jsonValue({ maxDepth: 3 })) },
  );
const params = (version: string) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record(
        {
          name: fc.oneof(fc.constantFrom(...TOOLS), fc.jsonValue({ maxDepth: 1 })),
          arguments: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })), fc.jsonValue({ maxDepth: 2 })),
          uri: fc.oneof(fc.webUrl(), fc.string({ maxLength: 40 })),
          protocolVersion: fc.oneof(fc.constantFrom(LEGACY, MODERN, '2025-06-18', '2024-11-05'), fc.string({ maxLength: 12 })),
          capabilities: fc.jsonValue({ maxDepth: 3 }),
          clientInfo: fc.jsonValue({ maxDepth: 2 }),
          level: fc.string({ maxLength: 10 }),
          requestId: id,
          requestState: fc.string({ maxLength: 80 }),
          _meta: meta(version),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
/** A JSON-RPC message, more or less: each field may be missing or of the wrong type. */
const message = (version: string) =>
  fc.record(
    {
      jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
      id,
      method,
      params: params(version),
      result: fc.jsonValue({ maxDepth: 2 }),
      error: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: ['jsonrpc', 'method'] },
  );
/** Headers a client might send with it: right, wrong or missing. */
const headers = (version: string) =>
  fc.record(
    {
      'MCP-Protocol-Version': fc.oneof({ weight: 6, arbitrary: fc.constant(version) }, { weight: 1, arbitrary: fc.constantFrom(LEGACY, MODERN, '2025-06-18', '1999-01-01', 'x') }),
      'Mcp-Method': fc.oneof(fc.constantFrom(...METHODS), fc.stringMatching(/^[\w/.-]{0,20}$/)),
      'Mcp-Name': fc.oneof(fc.constantFrom(...TOOLS), fc.stringMatching(/^[\w-]{0,20}$/)),
      Accept: fc.constantFrom('application/json, text/event-stream', 'application/json', 'text/event-stream', '*/*'),
    },
    { requiredKeys: ['Accept'] },
  );
/** A valid-looking body with a few bytes mangled: deleted, replaced or inserted anywhere. */
const mangled = (version: string) =>
  fc
    .tuple(message(version), fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'replace', 'insert'), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([msg, edits]) => {
      let bytes = Buffer.from(JSON.stringify(msg));
      for (const [at, op, byte] of edits) {
        const i = bytes.length ? at % bytes.length : 0;
        const b = Buffer.from([byte]);
        bytes = Buffer.concat(op === 'delete' ? [bytes.subarray(0, i), bytes.subarray(i + 1)] : op === 'replace' ? [bytes.subarray(0, i), b, bytes.subarray(i + 1)] : [bytes.subarray(0, i), b, bytes.subarray(i)]);
      }
      return bytes;
    });

describe('fuzzing /mcp with fast-check (both eras)', () => {
  let portico: TestPortico;
  let origin: string;
  let session: string;

  beforeAll(async () => {
    process.stderr.write(`fuzz: ${RUNS} runs per property, seed ${SEED} (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} to replay)\n`);
    portico = await bootHostilePortico();
    origin = new URL(portico.mcpUrl).origin;
    session = await openLegacySession(portico.mcpUrl, TOKENS.alice);
  });

  afterAll(async () => {
    await portico?.stop();
  });

  /** Posts `body` to /mcp; throws (failing the property) on a 5xx, a leak, or a 200/400 that is not JSON-RPC. */
  async function expectWellFormed(body: string | Buffer, extra: Record<string, string | undefined>) {
    const sent = Object.fromEntries(Object.entries({ 'Content-Type': 'application/json', Authorization: `Bearer ${TOKENS.alice}`, ...extra }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const res = await send(origin, { path: '/mcp', headers: sent, body }, 3000);
    const found = problems(res, { jsonRpc: true });
    if (found.length) throw new Error(`${found.join('; ')}\nrequest headers ${JSON.stringify(sent)}\nbody ${Buffer.from(body).toString('utf8').slice(0, 400)}\nanswer ${res.head}\n${res.body.slice(0, 400)}`);
  }

  const bounded = { numRuns: RUNS, seed: SEED, endOnFailure: true };

  it('modern era: generated messages', async () => {
    await fc.assert(fc.asyncProperty(message(MODERN), headers(MODERN), (msg, h) => expectWellFormed(JSON.stringify(msg), h)), bounded);
  });

  it('legacy era, no session: generated messages', async () => {
    await fc.assert(fc.asyncProperty(message(LEGACY), headers(LEGACY), (msg, h) => expectWellFormed(JSON.stringify(msg), h)), bounded);
  });

  it('legacy era, in a session: generated messages', async () => {
    await fc.assert(fc.asyncProperty(message(LEGACY), headers(LEGACY), (msg, h) => expectWellFormed(JSON.stringify(msg), { ...h, 'Mcp-Session-Id': session })), bounded);
  });

  it('both eras: mangled bytes', async () => {
    const versionAndBody = fc.constantFrom(MODERN, LEGACY).chain((version) => fc.tuple(fc.constant(version), mangled(version)));
    await fc.assert(
      fc.asyncProperty(versionAndBody, fc.boolean(), ([version, body], inSession) =>
        expectWellFormed(body, { Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': version, 'Mcp-Session-Id': inSession && version === LEGACY ? session : undefined }),
      ),
      bounded,
    );
  });

  it('the app is still up and serving', async () => {
    expect((await fetch(`${origin}/health`)).status).toBe(200);
    expect(await openLegacySession(portico.mcpUrl, TOKENS.alice)).toBeTruthy();
  });
});
