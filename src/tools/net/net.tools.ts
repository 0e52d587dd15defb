import { Inject } from '@nestjs/common';
import { Tool, type ToolContext, ToolError, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { type FetchedPage, PageFetcher } from './page-fetcher.service';
import { normalizeHost, SsrfGuard } from './ssrf/ssrf-guard.service';
import { SystemPing } from './system-ping';
import { type ConnectOutcome, PORT_SERVICES, tcpConnect } from './tcp-probe';

/** The ports `net_check_common_ports` checks when none are given. */
export const COMMON_PORTS = [22, 80, 443, 3000, 5000, 8000, 8080];
/** Pause between two TCP pings. */
const TCP_PING_INTERVAL_MS = 200;

const host = z
  .string()
  .max(255)
  .refine((v) => normalizeHost(v) !== undefined, { error: (issue) => `${JSON.stringify(issue.input)} is not a host name or IP address` })
  .describe('Host name or IP address, e.g. "example.com", "192.0.2.10" or "2001:db8::1" (no scheme, port or path)');
const port = z.number().int().min(1).max(65535);
const timeout = z.number().int().min(100).max(10_000).optional().describe('Milliseconds to wait for each answer; default and upper bound set by the server');

const pingInput = z.object({
  host,
  count: z.number().int().min(1).max(10).default(4).describe('Attempts, 1 to 10'),
  method: z
    .enum(['tcp', 'icmp'])
    .default('tcp')
    .describe('"tcp": connect to `port` (works through most firewalls; a refused connection also proves the host is up). "icmp": echo requests through the system ping, where the server allows it'),
  port: port.default(443).describe('TCP port to connect to (method "tcp")'),
  timeout_ms: timeout,
});

const reply = z.object({
  seq: z.number().int(),
  result: z.enum(['reply', 'refused', 'timeout', 'unreachable']).describe('"reply": connected (TCP) or echoed (ICMP); "refused": the host answered with a reset'),
  time_ms: z.number().nullable(),
});

const pingOutput = z.object({
  host: z.string(),
  address: z.string().describe('The address pinged (what the host name resolved to)'),
  method: z.enum(['tcp', 'icmp']),
  port: z.number().int().nullable(),
  sent: z.number().int(),
  received: z.number().int(),
  loss_percent: z.number(),
  rtt_ms: z.object({ min: z.number(), avg: z.number(), max: z.number() }).nullable(),
  reachable: z.boolean(),
  replies: z.array(reply),
});

const portsInput = z.object({
  host,
  ports: z
    .array(port)
    .min(1)
    .max(32)
    .refine((ports) => new Set(ports).size === ports.length, 'list each port once')
    .optional()
    .describe(`Ports to check, at most 32; default ${COMMON_PORTS.join(', ')}`),
  timeout_ms: timeout,
});

const portsOutput = z.object({
  host: z.string(),
  address: z.string(),
  results: z.array(
    z.object({
      port: z.number().int(),
      service: z.string().nullable(),
      state: z.enum(['open', 'closed', 'filtered']).describe('"open": accepted; "closed": refused; "filtered": no answer or no route'),
      time_ms: z.number().nullable(),
    }),
  ),
  open: z.array(z.number().int()),
});

const fetchInput = z
  .object({
    url: z.string().max(4096).optional().describe('The page, e.g. "https://example.com/status". Or give host (and port, path, scheme) instead'),
    host: host.optional(),
    port: port.optional(),
    path: z.string().max(4096).regex(/^\//, 'must start with "/"').optional().describe('Path and query, e.g. "/health?verbose=1"; default "/"'),
    scheme: z.enum(['http', 'https']).optional().describe('Default: https, or http when a port other than 443 is given'),
    max_bytes: z.number().int().min(1).max(64 * 1024 * 1024).default(100_000).describe('Stop reading the body after this many bytes (the server may set a lower bound)'),
  })
  .refine((v) => (v.url === undefined) !== (v.host === undefined), { message: 'give either url or host, not both', path: ['url'] })
  .refine((v) => v.url === undefined || (v.port === undefined && v.path === undefined && v.scheme === undefined), {
    message: 'port, path and scheme go with host, not with url',
    path: ['url'],
  });

const fetchOutput = z.object({
  url: z.string(),
  final_url: z.string(),
  status: z.number().int(),
  status_text: z.string(),
  content_type: z.string().nullable(),
  redirects: z.array(z.object({ url: z.string(), status: z.number().int() })),
  bytes: z.number().int(),
  truncated: z.boolean().describe('True when the body was longer than max_bytes: text covers only the first max_bytes'),
  max_bytes: z.number().int(),
  title: z.string().nullable(),
  text: z.string().nullable().describe('The page as readable text (HTML converted); null for binary content'),
});

type PingInput = z.infer<typeof pingInput>;
type PortsInput = z.infer<typeof portsInput>;
type FetchInput = z.infer<typeof fetchInput>;

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Network diagnostics for operators: is a host up, which ports answer, what
 * does a page say. Every target goes through the {@link SsrfGuard} first and
 * is reached by the address it resolved, so these tools only reach what
 * NET_ALLOW / NET_DENY permit (public addresses by default).
 */
@ToolProvider({ namespace: 'net' })
export class NetTools {
  constructor(
    private readonly guard: SsrfGuard,
    private readonly icmp: SystemPing,
    private readonly pages: PageFetcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Tool({
    name: 'net_ping_host',
    title: 'Ping a host',
    description:
      'Checks whether a host is reachable and measures round-trip times: TCP connects to a port (default 443) or, where the server allows it, ICMP echo. Returns every attempt, loss and min/avg/max times. Only hosts the server\'s network policy allows (public addresses by default).',
    input: pingInput,
    output: pingOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    scopes: ['net:probe'],
    rateLimit: { limit: 30, windowMs: 60_000 },
  })
  async pingHost(input: PingInput, ctx: ToolContext): Promise<z.infer<typeof pingOutput>> {
    if (input.method === 'icmp' && !this.icmp.enabled) {
      throw new ToolError('ICMP ping is disabled on this server (NET_ICMP_ENABLED); use method "tcp"', { code: 'net_icmp_disabled' });
    }
    const target = await this.guard.check(input.host, { signal: ctx.signal, context: { tool: 'net_ping_host' } });
    const waitMs = this.waitMs(input.timeout_ms);
    const replies: z.infer<typeof reply>[] = [];
    if (input.method === 'icmp') {
      const echoes = await this.icmp.ping(target.address, input.count, waitMs, ctx.signal);
      for (let seq = 1; seq <= input.count; seq++) {
        const echo = echoes.find((e) => e.seq === seq);
        replies.push(echo ? { seq, result: 'reply', time_ms: echo.timeMs } : { seq, result: 'timeout', time_ms: null });
      }
    } else {
      for (let seq = 1; seq <= input.count && !ctx.signal.aborted; seq++) {
        if (seq > 1) await sleep(TCP_PING_INTERVAL_MS, ctx.signal);
        const outcome = await tcpConnect(target.address, input.port, waitMs, ctx.signal);
        replies.push({ seq, result: outcome.result === 'open' ? 'reply' : outcome.result, time_ms: outcome.timeMs ?? null });
      }
    }
    const times = replies.flatMap((r) => (r.time_ms === null ? [] : [r.time_ms]));
    return {
      host: target.host,
      address: target.address,
      method: input.method,
      port: input.method === 'tcp' ? input.port : null,
      sent: replies.length,
      received: times.length,
      loss_percent: replies.length ? round(((replies.length - times.length) / replies.length) * 100) : 100,
      rtt_ms: times.length ? { min: Math.min(...times), avg: round(times.reduce((a, b) => a + b, 0) / times.length), max: Math.max(...times) } : null,
      reachable: times.length > 0,
      replies,
    };
  }

  @Tool({
    name: 'net_check_common_ports',
    title: 'Check common ports',
    description: `Checks which TCP ports of a host are open, closed (refused) or filtered (no answer), in parallel: by default ${COMMON_PORTS.join(', ')}, or up to 32 given ports. Only hosts the server's network policy allows (public addresses by default).`,
    input: portsInput,
    output: portsOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    scopes: ['net:probe'],
    // Each call probes up to 32 ports: fewer calls than the others, so the tool is no port scanner.
    rateLimit: { limit: 20, windowMs: 60_000 },
  })
  async checkCommonPorts(input: PortsInput, ctx: ToolContext): Promise<z.infer<typeof portsOutput>> {
    const ports = input.ports ?? COMMON_PORTS;
    const target = await this.guard.check(input.host, { signal: ctx.signal, context: { tool: 'net_check_common_ports' } });
    const waitMs = this.waitMs(input.timeout_ms);
    const outcomes = await Promise.all(ports.map((p) => tcpConnect(target.address, p, waitMs, ctx.signal)));
    const results = ports.map((p, i) => ({
      port: p,
      service: PORT_SERVICES[p] ?? null,
      state: portState(outcomes[i]),
      time_ms: outcomes[i].timeMs ?? null,
    }));
    return { host: target.host, address: target.address, results, open: results.filter((r) => r.state === 'open').map((r) => r.port) };
  }

  @Tool({
    name: 'net_fetch_page',
    title: 'Fetch a web page',
    description:
      'GETs a page over http(s) and returns its status, content type and text (HTML turned into readable text), reading at most max_bytes of the body (truncated: true when it was longer). Follows redirects, each checked again. Give url, or host with optional port, path and scheme. Only hosts the server\'s network policy allows (public addresses by default).',
    input: fetchInput,
    output: fetchOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    scopes: ['net:fetch'],
    rateLimit: { limit: 60, windowMs: 60_000 },
  })
  async fetchPage(input: FetchInput, ctx: ToolContext): Promise<FetchedPage> {
    const maxBytes = Math.min(input.max_bytes, this.config.net.fetch.maxBytes);
    return this.pages.fetch(pageUrl(input), maxBytes, ctx.signal);
  }

  private waitMs(asked?: number): number {
    return Math.min(asked ?? this.config.net.probeTimeoutMs, this.config.net.probeTimeoutMs);
  }
}

function portState(outcome: ConnectOutcome): 'open' | 'closed' | 'filtered' {
  return outcome.result === 'open' ? 'open' : outcome.result === 'refused' ? 'closed' : 'filtered';
}

/** The URL `net_fetch_page` was asked for, from `url` or from host, port, path and scheme. */
export function pageUrl(input: FetchInput): URL {
  if (input.url !== undefined) {
    try {
      return new URL(input.url);
    } catch {
      throw new ToolError(`${JSON.stringify(input.url)} is not a URL; give an absolute http(s) URL such as "https://example.com/"`, { code: 'net_bad_url' });
    }
  }
  const normalized = normalizeHost(input.host!)!;
  const scheme = input.scheme ?? (input.port !== undefined && input.port !== 443 ? 'http' : 'https');
  const hostPart = normalized.host.includes(':') ? `[${normalized.host}]` : normalized.host;
  const portPart = input.port !== undefined ? `:${input.port}` : '';
  return new URL(`${scheme}://${hostPart}${portPart}${input.path ?? '/'}`);
}
