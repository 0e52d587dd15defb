import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { AuditService } from '../../src/audit/audit.service';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { POSTGRES_URL, postgresAvailable } from '../support/postgres';

/** A TCP proxy to PostgreSQL that can be cut (the database "goes away" for this app only) and restored. */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    const target = new URL(POSTGRES_URL);
    this.server = createServer((client) => {
      const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    const closed = new Promise((r) => this.server!.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  url(): string {
    const url = new URL(POSTGRES_URL);
    url.host = `127.0.0.1:${this.port}`;
    return url.toString();
  }
}

const eventually = async (check: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * The audit journal's disk write fails while the database is away: Portico
 * does not crash, says so loudly, fails readiness for `audit`, keeps the
 * events in memory, and writes them once the disk or the database takes them.
 */
describe('audit journal unwritable while the database is away', () => {
  const proxy = new CuttableProxy();
  let portico: TestPortico | undefined;
  let available = false;

  beforeAll(async () => {
    available = await postgresAvailable();
    if (!available) return;
    await proxy.start();
    portico = await bootPortico({ DATABASE_URL: proxy.url(), READINESS_TIMEOUT_MS: '1000' });
  });

  afterAll(async () => {
    await portico?.stop();
    await proxy.cut().catch(() => undefined);
  });

  const ready = async () => {
    const res = await fetch(`${portico!.statusUrl}/health/ready`);
    return { status: res.status, body: (await res.json()) as { info?: Record<string, unknown>; error?: Record<string, { status: string; held?: number; message?: string }> } };
  };

  it('calls keep being answered, readiness is 503 for audit while events are held in memory, and every call ends up with one row', async () => {
    if (!available) return;
    const client = new V1Client({ name: 'journal-failure', version: '1' });
    await client.connect(new V1Transport(new URL(portico!.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
    const audit = portico!.app.get(AuditService);
    const journal = join(portico!.dataDir, 'audit', 'audit-journal.ndjson');
    const call = async () => expect((await client.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
    try {
      await call();
      // The disk fails (a directory where the journal file goes: every append fails, even as root), then the database.
      mkdirSync(journal, { recursive: true });
      await proxy.cut();
      for (let i = 0; i < 5; i++) await call();
      await eventually(() => audit.backlog.held >= 5);
      const down = await ready();
      expect(down.status).toBe(503);
      expect(down.body.error?.audit).toMatchObject({ status: 'down', message: expect.stringContaining('held in memory only') });
      expect(audit.backlog.dropped).toBe(0);

      // The disk is writable again: the held events reach the journal; readiness waits only for the database.
      rmSync(journal, { recursive: true });
      await eventually(() => audit.backlog.held === 0 && audit.backlog.journaled, 15_000);
      for (let i = 0; i < 2; i++) await call();

      // The database is back: the journal is replayed, and every call has exactly one row.
      await proxy.start();
      await eventually(async () => (await ready()).status === 200 && !audit.backlog.journaled, 20_000);
      await call();
      const rows = await portico!.auditRows(`kind = 'tool_call' AND tool = 'get_current_time'`);
      expect(rows).toHaveLength(9);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(9);
      expect(rows.map((r) => Number(r.seq))).toEqual([...rows.map((r) => Number(r.seq))].sort((a, b) => a - b));
    } finally {
      await client.close();
    }
  });
});
