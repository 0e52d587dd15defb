import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { queryDatabase } from '../support/database';
import { postgresAvailable, scratchDatabase } from '../support/postgres';
import { childEnv, MAIN, ROOT, type Spawned, spawnPortico } from '../support/process';
import { tempDirs } from '../support/temp-dirs';

/** The `portico` bin of package.json. */
const BIN = join(ROOT, 'dist', 'src', 'cli', 'portico.js');
const PRINCIPAL = `stdio:${userInfo().username}`;
const LEGACY = '2025-11-25';

type Message = { jsonrpc?: string; id?: number; method?: string; result?: Record<string, unknown>; error?: unknown };

/**
 * `portico stdio` as local clients run it: the built app as a subprocess,
 * driven by the official stdio clients (v2 in both eras, v1), and by hand
 * over raw pipes to check that stdout carries nothing but protocol messages.
 */
describe('portico stdio', () => {
  const tempDir = tempDirs('portico-stdio-');

  /** What a client's MCP configuration would hold: `node dist/src/main.js stdio` with a data directory. */
  function server(dataDir: string) {
    return {
      command: process.execPath,
      args: [MAIN, 'stdio'],
      cwd: ROOT,
      env: childEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'info' }),
      stderr: 'pipe' as const,
    };
  }

  function collect(stream: Readable | null): () => string {
    let text = '';
    stream?.on('data', (d: Buffer) => (text += d.toString()));
    return () => text;
  }

  /** Resolves once the process is gone (the client's close() waits 2 s, then signals it). */
  async function gone(pid: number, timeoutMs = 10_000): Promise<void> {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
    }
    throw new Error(`process ${pid} still runs ${timeoutMs} ms after the client closed`);
  }

  /** The child exited because stdin closed (not on the client's fallback SIGTERM), after flushing. */
  function expectCleanStop(stderr: string) {
    expect(stderr).toMatch(/"reason":"stdin closed","msg":"shutting down"/);
    expect(stderr).toMatch(/"msg":"stopped"/);
  }

  async function auditRows(dataDir: string, era: string, since: Date) {
    return queryDatabase(
      dataDir,
      `SELECT principal_id, auth_method, era, tool, outcome, session_id FROM audit_events
        WHERE principal_id = $1 AND era = $2 AND occurred_at >= $3 ORDER BY id`,
      [PRINCIPAL, era, since],
    );
  }

  const callTime = { name: 'get_current_time', arguments: { timezone: 'Asia/Kolkata' } };

  function expectTime(result: unknown) {
    const { isError, structuredContent } = result as { isError?: boolean; structuredContent?: unknown };
    expect(isError).toBeFalsy();
    expect(structuredContent).toMatchObject({ timezone: 'Asia/Kolkata', utc_offset: '+05:30' });
  }

  /** What the v1 and v2 clients have in common, as far as these tests go. */
  interface StdioClient {
    connect(transport: unknown): Promise<void>;
    getServerVersion(): { name: string } | undefined;
    listTools(): Promise<{ tools: { name: string }[] }>;
    callTool(params: typeof callTime): Promise<unknown>;
    close(): Promise<void>;
  }
  type Params = ReturnType<typeof server>;
  type Make = (params: Params) => { client: StdioClient; transport: { pid: number | null; stderr: unknown } };

  const clients: { name: string; era: 'legacy' | 'modern'; version?: string; make: Make }[] = [
    {
      name: 'v2 client, legacy era (initialize)',
      era: 'legacy',
      version: LEGACY,
      make: (params) => ({ transport: new StdioClientTransport(params), client: new Client({ name: 'stdio-legacy', version: '1' }) }),
    },
    {
      name: 'v2 client, modern era (versionNegotiation auto: server/discover)',
      era: 'modern',
      version: '2026-07-28',
      make: (params) => ({
        transport: new StdioClientTransport(params),
        client: new Client({ name: 'stdio-modern', version: '1' }, { versionNegotiation: { mode: 'auto' } }),
      }),
    },
    {
      name: 'v1 client (@modelcontextprotocol/sdk 1.x)',
      era: 'legacy',
      make: (params) => ({ transport: new V1StdioClientTransport(params), client: new V1Client({ name: 'stdio-v1', version: '1' }) }),
    },
  ];

  it.each(clients)('$name: lists, calls, stops when the client closes; audited as the local user', async ({ era, version, make }) => {
    const dataDir = tempDir();
    const since = new Date();
    const { client, transport } = make(server(dataDir));
    const stderr = collect(transport.stderr as Readable);
    await client.connect(transport);
    const pid = transport.pid!;
    if (version) expect((client as Client).getNegotiatedProtocolVersion()).toBe(version);
    expect(client.getServerVersion()?.name).toBe('portico');

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['convert_time', 'get_current_time']));
    expectTime(await client.callTool(callTime));
    await client.close();
    await gone(pid);

    expectCleanStop(stderr());
    expect(stderr()).toContain(`"era":"${era}","principal":"${PRINCIPAL}","msg":"stdio client connected"`);
    expect(await auditRows(dataDir, era, since)).toEqual([
      { principal_id: PRINCIPAL, auth_method: 'stdio', era, tool: 'get_current_time', outcome: 'ok', session_id: null },
    ]);
    expect(existsSync(join(dataDir, 'auth-token'))).toBe(false);
  });

  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'raw-stdio', version: '1' } },
  };

  const timeCall = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: callTime });

  /** Writes JSON-RPC lines to a raw `portico stdio` and reads its stdout line by line. */
  function rawSession(run: Spawned) {
    const lines = () => run.stdout().split('\n').slice(0, -1);
    return {
      send: (message: object) => run.child.stdin!.write(JSON.stringify(message) + '\n'),
      /** The legacy handshake (`initialize` as id 1, then `notifications/initialized`); returns the initialize response. */
      async handshake(): Promise<Message> {
        this.send(initialize);
        const response = await this.response(1);
        this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
        return response;
      },
      /** Every complete stdout line, parsed: a line that is not JSON fails the test here. */
      messages: () => lines().map((line) => JSON.parse(line) as Message),
      async response(id: number, timeoutMs = 30_000): Promise<Message> {
        for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
          const found = this.messages().find((m) => m.id === id);
          if (found) return found;
          if (run.child.exitCode !== null) break;
        }
        throw new Error(`no response ${id} on stdout; stdout:\n${run.stdout()}\nstderr:\n${run.stderr().slice(-3000)}`);
      },
    };
  }

  it('the portico bin: stdout carries only JSON-RPC messages, logs are JSON on stderr, no token is generated', async () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const dataDir = tempDir();
    // trace: every log line Portico and its dependencies can produce.
    const run = spawnPortico({ DATA_DIR: dataDir, LOG_LEVEL: 'trace' }, ['stdio'], { script: BIN, stdin: 'pipe' });
    const raw = rawSession(run);
    try {
      expect((await raw.handshake()).result).toMatchObject({ protocolVersion: LEGACY, serverInfo: { name: 'portico' } });
      raw.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      raw.send(timeCall(3));
      raw.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } });
      // Requests run concurrently: answers may come in any order.
      await Promise.all([raw.response(3), raw.response(4)]);
      run.child.stdin!.end();
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }

    const messages = raw.messages();
    expect(run.stdout().endsWith('\n')).toBe(true);
    for (const m of messages) {
      expect(m.jsonrpc).toBe('2.0');
      expect('result' in m || 'error' in m).toBe(true);
    }
    const byId = new Map(messages.map((m) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(messages).toHaveLength(4);
    expect((byId.get(2)!.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('get_current_time');
    expectTime(byId.get(3)!.result);
    expect(byId.get(4)!.error).toMatchObject({ code: -32602 }); // unknown tool: InvalidParams

    const logs = run
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['Portico is ready', 'stdio client connected', 'stopped']));
    expect(run.stderr()).not.toMatch(/ptc_/);
    expect(existsSync(join(dataDir, 'auth-token'))).toBe(false);
  });

  it('a dependency printing to stdout cannot corrupt the protocol: its lines go to stderr', async () => {
    const chatty = join(ROOT, 'test', 'fixtures', 'chatty-dependency.js');
    const run = spawnPortico({ DATA_DIR: tempDir(), NODE_OPTIONS: `--require ${chatty}` }, ['stdio'], { stdin: 'pipe' });
    const raw = rawSession(run);
    try {
      await raw.handshake();
      raw.send(timeCall(2));
      await raw.response(2);
      run.child.stdin!.end();
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(raw.messages().map((m) => [m.jsonrpc, m.id])).toEqual([
      ['2.0', 1],
      ['2.0', 2],
    ]);
    expect(run.stderr()).toContain('chatty dependency: console.log\n');
    expect(run.stderr()).toContain('chatty dependency: process.stdout.write\n');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops on %s with stdin still open: exit 0, the call is audited', async (signal) => {
    const dataDir = tempDir();
    const since = new Date();
    const run = spawnPortico({ DATA_DIR: dataDir }, ['stdio'], { stdin: 'pipe' });
    const raw = rawSession(run);
    try {
      await raw.handshake();
      raw.send(timeCall(2));
      expectTime((await raw.response(2)).result);
      const started = Date.now();
      run.child.kill(signal);
      expect(await run.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(run.stderr()).toContain(`"reason":"${signal}"`);
    expect(await auditRows(dataDir, 'legacy', since)).toHaveLength(1);
  });

  it('refuses a PostgreSQL schema that is behind: exit 1, the reason on stderr, nothing on stdout', async () => {
    if (!(await postgresAvailable())) return;
    const db = await scratchDatabase();
    try {
      const run = spawnPortico({ DATA_DIR: tempDir(), DATABASE_URL: db.url }, ['stdio'], { stdin: 'pipe' });
      expect(await run.exited).toBe(1);
      expect(run.stdout()).toBe('');
      // Nest's boot logs are JSON too; the last line is the command's own message.
      const lines = run.stderr().trim().split('\n');
      expect(lines.pop()).toMatch(/^portico: stdio failed: The database schema is behind/);
      for (const line of lines) expect(JSON.parse(line)).toHaveProperty('level');
    } finally {
      await db.drop();
    }
  });
});
