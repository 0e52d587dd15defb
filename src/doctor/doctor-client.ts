import { readFileSync } from 'node:fs';
import { type PeerCertificate, checkServerIdentity, connect as tlsConnect, rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';

/** One HTTP answer, body read in full (bounded). */
export interface HttpAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (WWW-Authenticate keeps every challenge). */
  headers: Record<string, string>;
  body: string;
  /** The body as JSON, when it parses. */
  json?: unknown;
}

/** What the TLS handshake showed. */
export interface TlsFacts {
  /** The chain verifies against the trusted roots (the system's, plus `--ca`). */
  trusted: boolean;
  trustError?: string;
  /** The certificate names the host. */
  nameMatches: boolean;
  nameError?: string;
  protocol: string | null;
  subject: string;
  issuer: string;
  validFrom: Date;
  validTo: Date;
}

/** An SSE stream being read: events as they arrive, with their arrival time. */
export interface SseStream {
  status: number;
  headers: Record<string, string>;
  /** Resolves with the first event's data and its latency in ms, or undefined if none came within `withinMs` (or the stream ended). */
  firstEvent(withinMs: number): Promise<{ data: string; latencyMs: number } | undefined>;
  /** Resolves true if the stream is still open after `ms` (no end, no error), else with how long it lasted. */
  staysOpen(ms: number): Promise<{ open: true } | { open: false; afterMs: number; reason: string }>;
  close(): void;
}

export interface DoctorClientOptions {
  /** Extra CA certificate file(s) trusted besides the system's (a private CA, a self-signed test certificate). */
  caFiles?: string[];
  /** Skip certificate verification for the HTTP checks (the TLS check still reports it). */
  insecure?: boolean;
  timeoutMs?: number;
  userAgent?: string;
}

const MAX_BODY = 1 << 20;

/** No response header within the wait: something holds the whole response. */
export class HeadersTimeout extends Error {
  constructor(readonly afterMs: number) {
    super(`no response header within ${afterMs} ms`);
    this.name = 'HeadersTimeout';
  }
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function describeName(fields: Record<string, string | string[] | undefined> | undefined): string {
  if (!fields) return '?';
  const pick = (k: string) => (Array.isArray(fields[k]) ? (fields[k] as string[]).join('/') : fields[k]);
  return [pick('CN'), pick('O')].filter(Boolean).join(', ') || '?';
}

/**
 * Every network call `portico doctor` makes: HTTP(S) with redirects never
 * followed (a redirect is a finding), bounded bodies and timeouts, a TLS
 * handshake that reports instead of refusing, and SSE streams read with
 * arrival times. Trusts the system's roots plus `--ca`.
 */
export class DoctorClient {
  private readonly ca: string[];
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(options: DoctorClientOptions = {}) {
    this.ca = [...rootCertificates, ...(options.caFiles ?? []).map((f) => readFileSync(f, 'utf8'))];
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.userAgent = options.userAgent ?? 'portico-doctor';
    this.agent = new Agent({
      connect: { ca: this.ca, rejectUnauthorized: !options.insecure, timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /** One request; the answer whatever its status (3xx included: never followed). Throws on network errors. */
  async fetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
    const res = await request(url, {
      dispatcher: this.agent,
      method: (init.method ?? 'GET') as 'GET',
      headers: { 'user-agent': this.userAgent, ...init.headers },
      body: init.body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    let body = '';
    for await (const chunk of res.body) {
      if (body.length < MAX_BODY) body += (chunk as Buffer).toString('utf8');
    }
    let json: unknown;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: flatten(res.headers), body, json };
  }

  /**
   * Opens a streaming request (SSE) and reads it as it arrives. The caller must close() it.
   * Throws a {@link HeadersTimeout} when no response header arrives within `headersTimeoutMs`
   * (a buffering proxy holds the headers too, until its buffer fills).
   */
  async stream(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; headersTimeoutMs?: number }): Promise<SseStream> {
    const controller = new AbortController();
    const started = Date.now();
    const res = await request(url, {
      dispatcher: this.agent,
      method: (init.method ?? 'GET') as 'GET',
      headers: { 'user-agent': this.userAgent, ...init.headers },
      body: init.body,
      signal: controller.signal,
      headersTimeout: init.headersTimeoutMs ?? this.timeoutMs,
      bodyTimeout: 0, // an idle stream is what is being tested: no body timeout
    }).catch((e: { code?: string }) => {
      throw e.code === 'UND_ERR_HEADERS_TIMEOUT' ? new HeadersTimeout(Date.now() - started) : e;
    });
    const events: { data: string; at: number }[] = [];
    let ended: { at: number; reason: string } | undefined;
    const waiters = new Set<() => void>();
    const wake = () => waiters.forEach((w) => w());
    let buffer = '';
    res.body.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8').replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        // Comments (": keepalive") and priming events (id + empty data) are not events with content.
        if (data) events.push({ data, at: Date.now() });
      }
      wake();
    });
    res.body.on('end', () => {
      ended ??= { at: Date.now(), reason: 'the server or a proxy ended the stream' };
      wake();
    });
    res.body.on('error', (e: Error) => {
      ended ??= { at: Date.now(), reason: controller.signal.aborted ? 'closed by the doctor' : `stream error: ${e.message}` };
      wake();
    });
    const waitUntil = (deadline: number, done: () => boolean) =>
      new Promise<void>((resolve) => {
        if (done()) return resolve();
        const check = () => {
          if (done() || Date.now() >= deadline) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(check, Math.max(0, deadline - Date.now()));
        waiters.add(check);
      });
    return {
      status: res.statusCode,
      headers: flatten(res.headers),
      async firstEvent(withinMs) {
        await waitUntil(started + withinMs, () => events.length > 0 || ended !== undefined);
        return events[0] && events[0].at - started <= withinMs ? { data: events[0].data, latencyMs: events[0].at - started } : undefined;
      },
      async staysOpen(ms) {
        await waitUntil(started + ms, () => ended !== undefined);
        return ended ? { open: false, afterMs: ended.at - started, reason: ended.reason } : { open: true };
      },
      close() {
        controller.abort();
        res.body.on('error', () => undefined);
        res.body.destroy();
      },
    };
  }

  /** The TLS handshake with `host:port`, reported rather than refused. */
  tls(host: string, port: number): Promise<TlsFacts> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host,
        port,
        servername: /^[\d.]+$|:/.test(host) ? undefined : host,
        ca: this.ca,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
        timeout: this.timeoutMs,
      });
      socket.once('secureConnect', () => {
        const cert = socket.getPeerCertificate() as PeerCertificate;
        const nameError = cert && Object.keys(cert).length ? checkServerIdentity(host.replace(/^\[|\]$/g, ''), cert) : new Error('no certificate');
        resolve({
          trusted: socket.authorized,
          trustError: socket.authorizationError ? String(socket.authorizationError) : undefined,
          nameMatches: !nameError,
          nameError: nameError?.message,
          protocol: socket.getProtocol(),
          subject: describeName(cert.subject as unknown as Record<string, string>),
          issuer: describeName(cert.issuer as unknown as Record<string, string>),
          validFrom: new Date(cert.valid_from),
          validTo: new Date(cert.valid_to),
        });
        socket.end();
      });
      socket.once('timeout', () => {
        socket.destroy();
        reject(new Error(`TLS handshake with ${host}:${port} timed out`));
      });
      socket.once('error', reject);
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
