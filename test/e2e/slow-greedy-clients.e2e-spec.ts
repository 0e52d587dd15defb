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
