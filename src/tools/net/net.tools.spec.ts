import { TOOL_METADATA, type ToolOptions } from '@portico/mcp-core';
import type { z } from 'zod';
import { NetTools, pageUrl } from './net.tools';

const definitionOf = (method: keyof NetTools) => Reflect.getMetadata(TOOL_METADATA, NetTools.prototype[method] as object) as ToolOptions & { input: z.ZodObject };

describe('NetTools definitions', () => {
  it('names the tools net_*, read-only and open-world, behind net:probe and net:fetch, rate-limited per principal', () => {
    expect(['pingHost', 'checkCommonPorts', 'fetchPage'].map((m) => definitionOf(m as keyof NetTools)).map((d) => [d.name, d.scopes])).toEqual([
      ['net_ping_host', ['net:probe']],
      ['net_check_common_ports', ['net:probe']],
      ['net_fetch_page', ['net:fetch']],
    ]);
    expect(['pingHost', 'checkCommonPorts', 'fetchPage'].map((m) => definitionOf(m as keyof NetTools).rateLimit)).toEqual([
      { limit: 30, windowMs: 60_000 },
      { limit: 20, windowMs: 60_000 },
      { limit: 60, windowMs: 60_000 },
    ]);
    for (const m of ['pingHost', 'checkCommonPorts', 'fetchPage'] as const) {
      expect(definitionOf(m).annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: true });
    }
  });

  describe('net_ping_host input', () => {
    const input = definitionOf('pingHost').input;

    it('defaults to 4 TCP pings on port 443', () => {
      expect(input.parse({ host: 'example.com' })).toEqual({ host: 'example.com', count: 4, method: 'tcp', port: 443 });
    });

    it.each([{ count: 11 }, { count: 0 }, { port: 0 }, { port: 70000 }, { method: 'udp' }, { timeout_ms: 50 }, { host: 'example.com:443' }, { host: '-c 5 evil' }])(
      'rejects %p',
      (bad) => {
        expect(input.safeParse({ host: 'example.com', ...bad }).success).toBe(false);
      },
    );
  });

  describe('net_check_common_ports input', () => {
    const input = definitionOf('checkCommonPorts').input;

    it('takes up to 32 distinct ports', () => {
      expect(input.safeParse({ host: 'example.com', ports: Array.from({ length: 32 }, (_, i) => i + 1) }).success).toBe(true);
      expect(input.safeParse({ host: 'example.com', ports: Array.from({ length: 33 }, (_, i) => i + 1) }).success).toBe(false);
      expect(input.safeParse({ host: 'example.com', ports: [80, 80] }).success).toBe(false);
      expect(input.safeParse({ host: 'example.com', ports: [] }).success).toBe(false);
    });
  });

  describe('net_fetch_page input', () => {
    const input = definitionOf('fetchPage').input;

    it('takes a url or a host, not both and not neither, and port/path/scheme only with a host', () => {
      expect(input.safeParse({ url: 'https://example.com/' }).success).toBe(true);
      expect(input.safeParse({ host: 'example.com', port: 8080, path: '/health' }).success).toBe(true);
      expect(input.safeParse({}).success).toBe(false);
      expect(input.safeParse({ url: 'https://example.com/', host: 'example.com' }).success).toBe(false);
      expect(input.safeParse({ url: 'https://example.com/', path: '/x' }).success).toBe(false);
      expect(input.safeParse({ host: 'example.com', path: 'no-slash' }).success).toBe(false);
    });

    it('defaults max_bytes to 100000', () => {
      expect(input.parse({ url: 'https://example.com/' })).toMatchObject({ max_bytes: 100_000 });
    });
  });

  describe('pageUrl', () => {
    const url = (v: Record<string, unknown>) => pageUrl({ max_bytes: 1, ...v } as Parameters<typeof pageUrl>[0]).href;

    it('builds https by default, http for another port, and brackets IPv6', () => {
      expect(url({ host: 'Example.com' })).toBe('https://example.com/');
      expect(url({ host: 'example.com', port: 443, path: '/a?b=1' })).toBe('https://example.com/a?b=1');
      expect(url({ host: 'example.com', port: 8080 })).toBe('http://example.com:8080/');
      expect(url({ host: '2001:db8::1', port: 8080, scheme: 'https' })).toBe('https://[2001:db8::1]:8080/');
      expect(url({ host: '0x7f.1', port: 80, path: '/x' })).toBe('http://127.0.0.1/x');
    });

    it('explains a url that does not parse', () => {
      expect(() => url({ url: 'example.com/page' })).toThrow('"example.com/page" is not a URL; give an absolute http(s) URL such as "https://example.com/"');
    });
  });
});
