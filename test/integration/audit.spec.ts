import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import { AuditRetentionService } from '../../src/audit/audit-retention.service';
import { AuditService } from '../../src/audit/audit.service';
import { migrate } from '../../src/cli/migrate.command';
import { loadConfig } from '../../src/config/app-config';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { postgresAvailable, scratchDatabase } from '../support/postgres';
import { ProbeToolsModule } from '../support/test-tools';

const ADMIN = 'admin-token-for-the-audit-api';
const PASSWORD = 'hunter2-very-secret-password';
const NOTE = 'a-note-marked-sensitive-in-the-schema';
const LONG = 'x'.repeat(1000);

/**
 * The audit log end to end, on the embedded database and on the real
 * PostgreSQL: every event kind Portico records so far, redaction, the hash
 * chain with retention and tampering, and the query API.
 */
describe.each(['embedded', 'postgres'] as const)('audit log on %s', (database) => {
  let portico: TestPortico;
  let dataSource: DataSource;
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let skip = false;
  const logged: string[] = [];
  let writeSync: jest.SpyInstance;

  beforeAll(async () => {
    let url = '';
    if (database === 'postgres') {
      if (!(await postgresAvailable())) {
        skip = true;
        return;
      }
      scratch = await scratchDatabase();
      url = scratch.url;
      await migrate(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }));
    }
    const real = fs.writeSync;
    writeSync = jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
      if (fd === 2) logged.push(String(data));
      return (real as (...a: unknown[]) => number)(fd, data, ...rest);
    }) as typeof fs.writeSync);
    portico = await bootPortico(
      { DATABASE_URL: url, STATUS_ADMIN_TOKEN: ADMIN, AUDIT_RETENTION_DAYS: '1', LOG_LEVEL: 'debug' },
      [ProbeToolsModule],
    );
    dataSource = portico.app.get<DataSource>(getDataSourceToken());
  });

  afterAll(async () => {
    await portico?.stop();
    writeSync?.mockRestore();
    await scratch?.drop();
  });

  const admin = (path: string, token: string | null = ADMIN) =>
    fetch(`${portico.statusUrl}${path}`, { headers: token ? bearer(token) : {} });

  it('records tool calls, sessions and the configuration with their facts, and never a secret', async () => {
    if (skip) return;
    const legacy = new V1Client({ name: 'audit-v1', version: '9.9' });
    const transport = new V1Transport(new URL(portico.mcpUrl), { requestInit: { headers: { ...bearer(TOKENS.alice), 'User-Agent': 'audit-test/1' } } });
    await legacy.connect(transport);
    const sessionId = transport.sessionId!;
    await legacy.callTool({ name: 'store_secret', arguments: { username: 'ada', password: PASSWORD, note: NOTE, text: LONG } });
    await transport.terminateSession();
    await legacy.close();

    const modern = new Client({ name: 'audit-v2', version: '2.0' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.bob) } }));
    await modern.callTool({ name: 'get_current_time', arguments: { timezone: 'UTC' } });
    await modern.close();

    const rows = await portico.auditRows('true');
    const kinds = new Set(rows.map((r) => r.kind));
    for (const kind of ['config_loaded', 'session_opened', 'session_closed', 'tool_call']) expect(kinds).toContain(kind);

    const [secretCall] = rows.filter((r) => r.tool === 'store_secret');
    expect(secretCall).toMatchObject({
      kind: 'tool_call',
      outcome: 'ok',
      principal_id: 'token:alice',
      auth_method: 'bearer',
      client_name: 'audit-v1',
      client_version: '9.9',
      user_agent: 'audit-test/1',
      session_id: sessionId,
      era: 'legacy',
      protocol_version: '2025-11-25',
      namespace: 'probe',
    });
    expect(secretCall.client_ip).toMatch(/127\.0\.0\.1/);
    expect(secretCall.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(secretCall.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(secretCall.result_bytes)).toBeGreaterThan(0);
    expect(secretCall.arguments).toMatchObject({
      username: 'ada',
      password: '[redacted]',
      note: '[redacted]',
      text: { length: 1000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(rows.find((r) => r.kind === 'session_closed' && r.session_id === sessionId)).toMatchObject({ outcome: 'deleted', principal_id: 'token:alice' });
    expect(rows.find((r) => r.tool === 'get_current_time')).toMatchObject({ era: 'modern', protocol_version: '2026-07-28', client_name: 'audit-v2', principal_id: 'token:bob' });
    expect(rows.find((r) => r.kind === 'config_loaded')!.detail).toMatchObject({ database: database, auth: { staticTokens: ['alice', 'bob'] } });

    // The logs were captured (at debug level), so the check below means something.
    expect(logged.join('')).toContain('"msg":"request completed"');
    const everything = JSON.stringify(rows) + logged.join('');
    for (const secret of [PASSWORD, NOTE, TOKENS.alice, TOKENS.bob, ADMIN]) expect(everything).not.toContain(secret);
  });

  it('serves the audit API to the admin token only: filters, cursor pages, NDJSON and CSV export', async () => {
    if (skip) return;
    expect((await admin('/audit', null)).status).toBe(401);
    expect((await admin('/audit', 'not-the-admin-token')).status).toBe(401);

    const filtered = await (await admin('/audit?kind=tool_call&tool=store_secret')).json();
    expect(filtered.events).toHaveLength(1);
    expect(filtered.events[0]).toMatchObject({ tool: 'store_secret', principalId: 'token:alice' });

    const total = (await portico.auditRows('true')).length;
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await (await admin(`/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
      expect(page.events.length).toBeLessThanOrEqual(2);
      ids.push(...page.events.map((e: { id: string }) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect((await admin('/audit?cursor=forged')).status).toBe(400);
    expect((await admin('/audit?from=yesterday')).status).toBe(400);

    const ndjson = await admin('/audit?format=ndjson&principal=token:alice');
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await ndjson.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.every((l) => l.principalId === 'token:alice')).toBe(true);

    const csv = (await (await admin('/audit?format=csv&kind=tool_call')).text()).trim().split('\n');
    expect(csv[0]).toMatch(/^id,eventId,occurredAt,kind,outcome,/);
    expect(csv).toHaveLength(1 + (await portico.auditRows(`kind = 'tool_call'`)).length);
  });

  it('stores any text exactly as given (quotes, backslashes, SQL, unicode), and the chain over it verifies', async () => {
    if (skip) return;
    const hostile = `it's a \\'); DROP TABLE audit_events; -- \\\\n \\x00 "quoted" é 漢字 🦆 $1 $$ E'x'`;
    await portico.app.get(AuditService).recordDurably({
      kind: 'tool_call',
      outcome: 'error',
      tool: 'hostile_text',
      userAgent: hostile,
      errorMessage: hostile,
      durationMs: 0.1 + 0.2,
      resultBytes: 0,
      arguments: hostile,
      detail: { [hostile]: [hostile, 1.5, null, true, { nested: hostile }] },
    });
    const [row] = await portico.auditRows(`tool = 'hostile_text'`);
    expect(row).toMatchObject({ user_agent: hostile, error_message: hostile, arguments: hostile, detail: { [hostile]: [hostile, 1.5, null, true, { nested: hostile }] } });
    expect(Number(row.duration_ms)).toBe(0.1 + 0.2);
    expect(await (await admin('/audit/verify')).json()).toMatchObject({ problems: [] });
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM audit_events`)).toEqual([{ n: expect.any(Number) }]);
  });

  it('stores text with NUL characters (which PostgreSQL refuses) with U+FFFD in their place, and the writer goes on', async () => {
    if (skip) return;
    const nul = 'before\u0000after';
    const shown = 'before\uFFFDafter';
    await portico.app.get(AuditService).recordDurably({
      kind: 'tool_call',
      outcome: 'error',
      tool: 'nul_text',
      userAgent: nul,
      errorMessage: nul,
      arguments: { [nul]: [nul, { nested: nul }] },
      detail: { note: nul },
    });
    await portico.app.get(AuditService).recordDurably({ kind: 'tool_call', outcome: 'ok', tool: 'after_nul_text' });
    const [row] = await portico.auditRows(`tool = 'nul_text'`);
    expect(row).toMatchObject({ user_agent: shown, error_message: shown, arguments: { [shown]: [shown, { nested: shown }] }, detail: { note: shown } });
    expect(await portico.auditRows(`tool = 'after_nul_text'`)).toHaveLength(1);
    expect(portico.app.get(AuditService).backlog).toMatchObject({ queued: 0, held: 0, journaled: false });
    expect(await (await admin('/audit/verify')).json()).toMatchObject({ problems: [] });
  });

  it('verifies the chain, keeps it verifiable across retention, and reports an edited row', async () => {
    if (skip) return;
    const verify = async () => (await admin('/audit/verify')).json();
    expect(await verify()).toMatchObject({ problems: [] });

    // Retention a day from now deletes every row so far and leaves a checkpoint.
    await portico.app.get(AuditService).flush();
    const before = (await portico.auditRows('true')).length;
    const deleted = await portico.app.get(AuditRetentionService).prune(new Date(Date.now() + 2 * 24 * 3600 * 1000));
    expect(deleted).toBe(before);
    const [checkpoint] = await dataSource.query(`SELECT * FROM audit_checkpoints`);
    expect(checkpoint).toMatchObject({ instance_id: portico.app.get(AuditService).instanceId, deleted_rows: before });

    // New events continue the chain after the checkpoint, and it still verifies.
    const client = new Client({ name: 'after-retention', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
    await client.callTool({ name: 'get_current_time', arguments: {} });
    await client.close();
    await portico.app.get(AuditService).flush();
    expect(await verify()).toMatchObject({ problems: [] });

    // Someone with database rights edits a row (they must first switch off the append-only trigger).
    const [row] = await portico.auditRows(`kind = 'tool_call'`);
    await dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
    await dataSource.query(`UPDATE audit_events SET outcome = 'tool_error' WHERE id = $1`, [row.id]);
    await dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
    const report = await verify();
    expect(report.problems).toEqual([expect.objectContaining({ id: String(row.id), problem: expect.stringMatching(/changed/) })]);
  });
});
