import { readFileSync } from 'node:fs';
import { PACKAGE_VERSION } from '../common/paths';
import { runDoctor } from '../doctor/doctor';
import { formatReport } from '../doctor/doctor-report';
import { commandArgs, UsageError } from './cli-args';

export const DOCTOR_USAGE = `Usage: portico doctor <url> [options]

Checks a deployed Portico the way claude.ai and other clients use it, and prints
a pass/fail line per check with how to fix what fails. <url> is the MCP URL as
clients are given it, e.g. https://mcp.example.com/mcp.

Options:
  --token <t>          bearer token or API key for the MCP checks (or PORTICO_DOCTOR_TOKEN)
  --token-file <f>     read the token from a file
  --basic <user:pass>  HTTP Basic credentials instead
  --header "<K: V>"    an extra header, repeatable (e.g. "X-API-Key: ptk_…")
  --status-url <url>   the status port (http://127.0.0.1:39128): readiness must be 200
  --ca <file>          also trust this CA certificate (private CA, self-signed test)
  --insecure           do not verify certificates for the HTTP checks (tls still fails)
  --idle-stream        also check that an idle SSE stream survives past 60 s (slow)
  --idle-seconds <n>   how long that stream is held (default 75)
  --timeout-ms <n>     per request (default 10000)
  --json               the report as JSON on stdout

Without credentials, the checks that call MCP methods are skipped.
Exit code: 0 when every required check passes, 1 otherwise, 2 on a usage error.
`;

function positiveInt(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer`, DOCTOR_USAGE);
  return n;
}

/** `portico doctor <url>`: needs no configuration of its own (it checks another deployment). */
export async function doctor(argv: string[]): Promise<void> {
  const { values, positionals } = commandArgs(argv, DOCTOR_USAGE, {
    token: { type: 'string' },
    'token-file': { type: 'string' },
    basic: { type: 'string' },
    header: { type: 'string', multiple: true },
    'status-url': { type: 'string' },
    ca: { type: 'string', multiple: true },
    insecure: { type: 'boolean' },
    'idle-stream': { type: 'boolean' },
    'idle-seconds': { type: 'string' },
    'timeout-ms': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'doctor takes one URL' : 'doctor needs the MCP URL', DOCTOR_USAGE);
  let url: URL;
  try {
    url = new URL(positionals[0]);
  } catch {
    throw new UsageError(`not a URL: ${positionals[0]}`, DOCTOR_USAGE);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('the URL must be http(s)', DOCTOR_USAGE);

  const raw = values as Record<string, string | boolean | string[] | undefined>;
  const headers: Record<string, string> = {};
  for (const h of (raw.header as string[] | undefined) ?? []) {
    const colon = h.indexOf(':');
    if (colon < 1) throw new UsageError(`--header "${h}": expected "Name: value"`, DOCTOR_USAGE);
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const tokenFile = raw['token-file'] as string | undefined;
  const token = (raw.token as string | undefined) ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined) ?? process.env.PORTICO_DOCTOR_TOKEN;
  if (token && raw.basic) throw new UsageError('give --token or --basic, not both', DOCTOR_USAGE);
  if (token) headers.authorization = `Bearer ${token}`;
  if (typeof raw.basic === 'string') {
    if (!raw.basic.includes(':')) throw new UsageError('--basic takes user:password', DOCTOR_USAGE);
    headers.authorization = `Basic ${Buffer.from(raw.basic, 'utf8').toString('base64')}`;
  }

  const report = await runDoctor({
    url: url.href,
    headers,
    statusUrl: raw['status-url'] as string | undefined,
    caFiles: raw.ca as string[] | undefined,
    insecure: Boolean(raw.insecure),
    idleStream: Boolean(raw['idle-stream']),
    idleSeconds: positiveInt(raw['idle-seconds'] as string | undefined, '--idle-seconds', 75),
    timeoutMs: positiveInt(raw['timeout-ms'] as string | undefined, '--timeout-ms', 10_000),
    version: PACKAGE_VERSION,
  });
  process.stdout.write(raw.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  process.exitCode = report.ok ? 0 : 1;
}
