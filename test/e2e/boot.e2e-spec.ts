import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Module } from '@nestjs/common';
import { Tool, ToolProvider } from '@portico/mcp-core';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { queryDatabase } from '../support/database';
import { bootPortico } from '../support/portico';
import { spawnPortico } from '../support/process';
import { tempDirs } from '../support/temp-dirs';

@ToolProvider({ namespace: 'clock' })
class ClashingTools {
  @Tool({ name: 'get_current_time', description: 'Another tool with a taken name.' })
  now() {
    return 'noon';
  }
}

@Module({ providers: [ClashingTools] })
class ClashingModule {}

describe('booting Portico', () => {
  const tempDir = tempDirs('portico-boot-');

  it('fails on a bad configuration, naming every bad key, without a stack trace', async () => {
    const run = spawnPortico({ DATA_DIR: tempDir(), PORT: 'eighty', LOG_LEVEL: 'loud', AUTH_DISABLED: 'maybe', HOST: '0.0.0.0' });
    expect(await run.exited).toBe(1);
    const err = run.stderr();
    for (const key of ['PORT', 'LOG_LEVEL', 'AUTH_DISABLED']) expect(err).toMatch(new RegExp(`- ${key}: `));
    expect(err).not.toMatch(/\n\s+at /);
    expect(run.stdout()).toBe('');
  });

  it('refuses to boot when two providers declare the same tool name, naming both', async () => {
    await expect(bootPortico({}, [ClashingModule])).rejects.toThrow(
      /Duplicate tool name "get_current_time": declared by TimeTools\.getCurrentTime and by ClashingTools\.now/,
    );
  });

  it('first start: generates a token, prints it once with a client config, serves /mcp with it, and stops cleanly on SIGTERM', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, PORT: '0', STATUS_PORT: '0' };
    const first = spawnPortico(env);
    try {
      const [, token] = await first.waitFor(/^\s+(ptc_[A-Za-z0-9_-]{43})$/m);
      const [, url] = await first.waitFor(/claude mcp add --transport http portico (http:\/\/127\.0\.0\.1:\d+\/mcp) --header "Authorization: Bearer ptc_/);
      expect(first.stderr()).toContain('"mcpServers"');
      expect(statSync(join(dataDir, 'auth-token')).mode & 0o777).toBe(0o600);
      expect(first.stdout()).toBe('');

      // A legacy client holding a GET stream open: shutdown must end it, not wait for it.
      const legacy = new Client({ name: 'boot-legacy', version: '1' });
      const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
      await legacy.connect(transport);
      const sessionId = transport.sessionId!;
      const result = await legacy.callTool({ name: 'get_current_time', arguments: {} });
      expect((result.structuredContent as { timezone: string }).timezone).toBe('UTC');

      // SIGTERM right after the call: the audit row must still reach the database.
      const started = Date.now();
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(first.stderr()).toMatch(/"msg":"stopped"/);
      await legacy.close().catch(() => undefined);

      const rows = await queryDatabase(dataDir, `SELECT tool, outcome, principal_id FROM audit_events WHERE kind = 'tool_call' AND session_id = $1`, [sessionId]);
      expect(rows).toEqual([{ tool: 'get_current_time', outcome: 'ok', principal_id: 'token:bootstrap' }]);
    } finally {
      first.child.kill('SIGKILL');
    }

    // Second start: same token from the file, not printed again.
    const second = spawnPortico(env);
    try {
      const [, url] = await second.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/);
      expect(second.stderr()).not.toMatch(/ptc_[A-Za-z0-9_-]{43}/);
      const token = require('node:fs').readFileSync(join(dataDir, 'auth-token'), 'utf8').trim();
      const client = new V1Client({ name: 'boot-v1', version: '1' });
      await client.connect(new V1Transport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('convert_time');
      await client.close();
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    } finally {
      second.child.kill('SIGKILL');
    }
  });

  it('runs without auth only when asked, on loopback, with a warning', async () => {
    const run = spawnPortico({ DATA_DIR: tempDir(), PORT: '0', STATUS_PORT: '0', AUTH_DISABLED: 'true' });
    try {
      await run.waitFor(/AUTH_DISABLED=true/);
      const [, url] = await run.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/);
      const client = new V1Client({ name: 'boot-anon', version: '1' });
      await client.connect(new V1Transport(new URL(url)));
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      await client.close();
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  });

  it('logs JSON lines on stderr with request ids, and never a token', async () => {
    const token = 'ci-secret-token-5f2b9c1e7a';
    const wrong = 'wrong-secret-token-8d3e6a0b4c';
    const run = spawnPortico({ DATA_DIR: tempDir(), PORT: '0', STATUS_PORT: '0', LOG_LEVEL: 'trace', AUTH_TOKENS: `ci:${token}` });
    try {
      const [, url] = await run.waitFor(/"mcpUrl":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/);
      const client = new V1Client({ name: 'boot-logs', version: '1' });
      await client.connect(new V1Transport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Europe/Paris' } });
      await client.close();
      const bad = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${wrong}`, 'Content-Type': 'application/json' }, body: '{}' });
      expect(bad.status).toBe(401);
      const query = await fetch(`${url}?access_token=${wrong}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(query.status).toBe(401);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
    const lines = run.stderr().trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r.msg === 'request completed').length).toBeGreaterThanOrEqual(4);
    for (const r of records.filter((r) => r.msg === 'request completed')) expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.stderr()).not.toContain(token);
    expect(run.stderr()).not.toContain(wrong);
    expect(run.stdout()).toBe('');
  });

  it('refuses to open an embedded database another Portico process holds', async () => {
    if (process.env.DATABASE_URL) return; // PostgreSQL is shared by design
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, PORT: '0', STATUS_PORT: '0', AUTH_TOKENS: 'ci:ci-token-0123456789abcdef' };
    const first = spawnPortico(env);
    try {
      await first.waitFor(/"mcpUrl"/);
      const second = spawnPortico(env, ['stdio']);
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toContain(`is in use by process ${first.child.pid}`);
    } finally {
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    }
    // Released on a clean stop: the next start opens it.
    const third = spawnPortico(env);
    try {
      await third.waitFor(/"mcpUrl"/);
    } finally {
      third.child.kill('SIGTERM');
      expect(await third.exited).toBe(0);
    }
  });
});
