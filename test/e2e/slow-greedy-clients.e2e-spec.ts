import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Module } from '@nestjs/common';
import { Tool, ToolProvider } from '@portico/mcp-core';
import { connect as tcpConnect } from 'node:net';
import { z } from 'zod';
import { MetricsService } from '../../src/metrics/metrics.service';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';
import { ACCEPT } from '../support/raw-mcp';

/** Tools whose results are larger than the cap the suite sets. */
@ToolProvider({ namespace: 'big' })
class BigTools {
  @Tool({ name: 'big_text', description: 'Returns `bytes` bytes of text.', input: z.object({ bytes: z.number().int() }) })
  text({ bytes }: { bytes: number }) {
    return 'abcdefghij'.repeat(Math.ceil(bytes / 10)).slice(0, bytes);
  }

  @Tool({
    name: 'big_list',
    description: 'Returns `count` structured items.',
    input: z.object({ count: z.number().int() }),
    output: z.object({ items: z.array(z.object({ id: z.number(), name: z.string() })) }),
  })
  list({ count }: { count: number }) {
    return { items: Array.from({ length: count }, (_, id) => ({ id, name: `item number ${id}` })) };
  }
}

@Module({ providers: [BigTools] })
class BigToolsModule {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A raw client that sends `head` then one byte of `drip` every `everyMs`
 * (never finishing): when and how the server cut it off.
 */
function dribble(port: number, head: string, drip: string, everyMs: number): Promise<{ afterMs: number; response: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = tcpConnect(port, '127.0.0.1');
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    let i = 0;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => socket.write(drip[i++ % drip.length]), everyMs);
    });
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ afterMs: Date.now() - started, response });
    });
    setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`still connected after 15 s; got ${JSON.stringify(response)}`));
    }, 15_000).unref();
  });
}

async function v1(url: string, token: string): Promise<V1Client> {
  const client = new V1Client({ name: 'greedy-v1', version: '1' });
  await client.connect(new V1Transport(new URL(url), { requestInit: { headers: bearer(token) } }));
  return client;
}

async function modern(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'greedy-modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: bearer(token) } }));
  return client;
}

/** True when the stream has neither ended nor failed within `ms`. */
async function stillOpen(reader: ReadableStreamDefaultReader<Uint8Array>, ms = 500): Promise<boolean> {
  const ended = reader.read().then(
    (r) => r.done,
    () => true,
  );
  return !(await Promise.race([ended, sleep(ms).then(() => false)]));
}

describe('slow clients: header and body timeouts on both ports', () => {
  let portico: TestPortico;
  let port: number;
  let statusPort: number;

  beforeAll(async () => {
    portico = await bootPortico({
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
      PORTICO_CONFORMANCE_FIXTURES: 'true',
    });
    port = Number(new URL(portico.mcpUrl).port);
    statusPort = Number(new URL(portico.statusUrl).port);
  });

  afterAll(async () => {
    await portico?.stop();
  });

  it('a client dribbling its headers gets 408 and is cut off; the server keeps answering', async () => {
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
    const slow = dribble(port, head, 'X-Slow: 1\r\n', 200);
    // Meanwhile the server answers everyone else.
    await sleep(300);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const { afterMs, response } = await slow;
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeGreaterThanOrEqual(1000);
    expect(afterMs).toBeLessThan(5000);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  it('a client dribbling its body gets 408 and is cut off', async () => {
    const head =
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKENS.alice}\r\n` +
      `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{"jsonrpc":"2.0",`;
    const { afterMs, response } = await dribble(port, head, ' ', 200);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeGreaterThanOrEqual(2000);
    expect(afterMs).toBeLessThan(6000);
  });

  it('the status port cuts off a header dribbler too', async () => {
    const { afterMs, response } = await dribble(statusPort, `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n`, 'X-Slow: 1\r\n', 200);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(afterMs).toBeLessThan(5000);
  });

  it('streams outlive the request timeout: an /sse session and a modern listen stream stay open and working', async () => {
    const sse = await fetch(`http://127.0.0.1:${port}/sse`, { headers: { ...bearer(TOKENS.alice), Accept: 'text/event-stream' } });
    expect(sse.status).toBe(200);
    const sseReader = sse.body!.getReader();
    let seen = '';
    while (!/sessionId=/.test(seen)) seen += new TextDecoder().decode((await sseReader.read()).value);
    const messages = /data: (\S+sessionId=\S+)/.exec(seen)![1];

    const client = await modern(portico.mcpUrl, TOKENS.alice);
    const heard: string[] = [];
    client.setNotificationHandler('notifications/tools/list_changed', () => void heard.push('tools'));
    const subscription = await client.listen({ toolsListChanged: true });
    try {
      await sleep(4000); // twice the request timeout, plus Node's check interval

      // The /sse session still carries answers: a ping posted now comes back down the stream.
      const ping = await fetch(`http://127.0.0.1:${port}${messages}`, {
        method: 'POST',
        headers: { ...bearer(TOKENS.alice), 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
      });
      expect(ping.status).toBe(202);
      seen = '';
      while (!/"id":7/.test(seen)) seen += new TextDecoder().decode((await sseReader.read()).value);
      expect(seen).toContain('"result":{}');
      // The listen stream still delivers notifications: a runtime tool change reaches it.
      await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
      for (let i = 0; i < 50 && !heard.length; i++) await sleep(100);
      expect(heard).toEqual(['tools']);
    } finally {
      await sseReader.cancel();
      await subscription.close();
      await client.close();
    }
  });
});

describe('greedy clients: stream caps per principal and per instance', () => {
  let portico: TestPortico;
  const open: AbortController[] = [];

  beforeAll(async () => {
    portico = await bootPortico({ STREAM_MAX_PER_PRINCIPAL: '2', STREAM_MAX_PER_INSTANCE: '3' });
  });

  afterAll(async () => {
    for (const c of open) c.abort();
    await portico?.stop();
  });

  /** Opens a stream of `kind` for `token`; returns the response (its body left unread). */
  async function stream(kind: 'sse' | 'listen' | 'mcp_get', token: string): Promise<Response> {
    const abort = new AbortController();
    open.push(abort);
    const base = portico.mcpUrl.replace(/\/mcp$/, '');
    if (kind === 'sse') return fetch(`${base}/sse`, { headers: { ...bearer(token), Accept: 'text/event-stream' }, signal: abort.signal });
    if (kind === 'mcp_get') return fetch(portico.mcpUrl, { headers: { ...bearer(token), Accept: 'text/event-stream', 'Mcp-Session-Id': 'none' }, signal: abort.signal });
    return fetch(portico.mcpUrl, {
      method: 'POST',
      headers: { ...bearer(token), ...ACCEPT, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'subscriptions/listen' },
      signal: abort.signal,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'listen-1',
        method: 'subscriptions/listen',
        params: {
          notifications: { toolsListChanged: true },
          _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} },
        },
      }),
    });
  }

  const refused = async (kind: string, limit: string) =>
    sampleValue(parsePrometheusText(await portico.app.get(MetricsService).scrape()), 'portico_streams_refused_total', { kind, limit }) ?? 0;

  it('a principal past its cap gets 429, the instance past its cap 503; a closed stream frees its slot', async () => {
    const first = await stream('sse', TOKENS.alice);
    const second = await stream('listen', TOKENS.alice);
    expect([first.status, second.status]).toEqual([200, 200]);

    const third = await stream('sse', TOKENS.alice);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('30');
    expect(await third.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Too many open streams for this principal (2): close one, or try again later' },
      id: null,
    });
    const listen = await stream('listen', TOKENS.alice);
    expect(listen.status).toBe(429);
    expect(await listen.json()).toMatchObject({ id: 'listen-1' });
    expect(await refused('sse', 'principal')).toBe(1);
    expect(await refused('listen', 'principal')).toBe(1);

    // Bob takes the instance's last slot; the next stream of anyone gets 503.
    expect((await stream('sse', TOKENS.bob)).status).toBe(200);
    const full = await stream('mcp_get', TOKENS.bob);
    expect(full.status).toBe(503);
    expect((await full.json()).error.message).toBe('Too many open streams on this server (3): try again later');
    expect(await refused('mcp_get', 'instance')).toBe(1);

    // Alice closes a stream: she (and the instance) have room again.
    open[0].abort();
    await sleep(200);
    expect((await stream('sse', TOKENS.alice)).status).toBe(200);
  });

  it('the official modern client sees a refused listen as an error it can report', async () => {
    const client = await modern(portico.mcpUrl, TOKENS.alice);
    try {
      await expect(client.listen({ toolsListChanged: true })).rejects.toThrow(/Too many open streams/);
      // Ordinary requests are not streams: they still work.
      expect((await client.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});

describe('greedy clients: sessions per principal', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico({ SESSION_MAX_PER_PRINCIPAL: '2' });
  });

  afterAll(async () => {
    await portico?.stop();
  });

  it('one session too many evicts the one idle the longest, not the new one; the eviction is audited', async () => {
    const a = await v1(portico.mcpUrl, TOKENS.alice);
    const b = await v1(portico.mcpUrl, TOKENS.alice);
    const bSession = (b.transport as V1Transport).sessionId!;
    await sleep(20);
    await a.callTool({ name: 'get_current_time', arguments: {} }); // a is older, but b has been idle longer
    const c = await v1(portico.mcpUrl, TOKENS.alice);
    try {
      expect((await a.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
      expect((await c.callTool({ name: 'get_current_time', arguments: {} })).isError).toBeFalsy();
      await expect(b.callTool({ name: 'get_current_time', arguments: {} })).rejects.toThrow(/404|Session not found/);
      const rows = await portico.auditRows(`kind = 'session_closed' AND session_id = $1`, [bSession]);
      expect(rows).toEqual([expect.objectContaining({ outcome: 'evicted', principal_id: expect.stringContaining('alice') })]);
    } finally {
      await Promise.all([a.close(), b.close().catch(() => undefined), c.close()]);
    }
  });
});

describe('large tool results: truncated with a note, in both eras', () => {
  let portico: TestPortico;

  beforeAll(async () => {
    portico = await bootPortico({ TOOL_RESULT_MAX_BYTES: '8192' }, [BigToolsModule]);
  });

  afterAll(async () => {
    await portico?.stop();
  });

  const note = /\[Portico: this result was truncated: the tool returned (\d+) bytes, the limit is 8192 bytes/;

  it.each(['modern', 'legacy'] as const)('%s era: text is cut and the model is told by how much; the audit row says so', async (era) => {
    const client = era === 'modern' ? await modern(portico.mcpUrl, TOKENS.alice) : await v1(portico.mcpUrl, TOKENS.alice);
    try {
      const result = (await client.callTool({ name: 'big_text', arguments: { bytes: 50_000 } })) as { content: { type: string; text: string }[]; isError?: boolean };
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(8192 + 200); // the client may add fields (e.g. _meta)
      expect(result.isError).toBeFalsy();
      expect(result.content[0].text).toMatch(/^(abcdefghij)+/);
      expect(result.content[0].text.length).toBeGreaterThan(6000);
      expect(Number(note.exec(result.content.at(-1)!.text)?.[1])).toBeGreaterThan(50_000);

      const small = (await client.callTool({ name: 'big_text', arguments: { bytes: 100 } })) as { content: { text: string }[] };
      expect(small.content).toEqual([{ type: 'text', text: 'abcdefghij'.repeat(10) }]);

      const rows = await portico.auditRows(`kind = 'tool_call' AND tool = 'big_text' AND era = $1`, [era]);
      expect(rows.map((r) => (r.detail as { resultTruncated?: unknown } | null)?.resultTruncated ?? null)).toEqual([
        expect.objectContaining({ originalBytes: expect.any(Number), droppedBlocks: 1, structuredWithheld: false }),
        null,
      ]);
      expect(Number(rows[0].result_bytes)).toBeLessThanOrEqual(8192);
    } finally {
      await client.close();
    }
  });

  it.each(['modern', 'legacy'] as const)('%s era: structured content over the cap is withheld as an error the model reads', async (era) => {
    const client = era === 'modern' ? await modern(portico.mcpUrl, TOKENS.alice) : await v1(portico.mcpUrl, TOKENS.alice);
    try {
      const result = (await client.callTool({ name: 'big_list', arguments: { count: 2000 } })) as { content: { text: string }[]; isError?: boolean; structuredContent?: unknown };
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toBeUndefined();
      expect(result.content.at(-1)!.text).toMatch(note);
      expect(result.content.at(-1)!.text).toContain('its structured content was withheld');
      // Under the cap, structured content passes as before.
      const ok = (await client.callTool({ name: 'big_list', arguments: { count: 2 } })) as { structuredContent?: unknown };
      expect(ok.structuredContent).toEqual({ items: [{ id: 0, name: 'item number 0' }, { id: 1, name: 'item number 1' }] });
    } finally {
      await client.close();
    }
  });
});
