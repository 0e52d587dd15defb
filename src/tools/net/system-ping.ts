import { Inject, Injectable } from '@nestjs/common';
import { ToolError } from '@portico/mcp-core';
import ipaddr from 'ipaddr.js';
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

/** One echo reply, as `ping` printed it. */
export interface EchoReply {
  seq: number;
  timeMs: number;
}

/** Seconds between echo requests: the smallest interval iputils allows an unprivileged user. */
const INTERVAL_SECONDS = 0.2;

/**
 * ICMP echo through the system `ping` (iputils: Debian, Ubuntu, RHEL,
 * Alpine's iputils package), for `net_ping_host` with `method: "icmp"`.
 * Runs the program directly with an argument list, never through a shell,
 * on an address the SSRF guard let through (never a name, so `ping` resolves
 * nothing), with a locale that keeps its output parseable.
 */
@Injectable()
export class SystemPing {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Whether ICMP may be used at all (NET_ICMP_ENABLED). */
  get enabled(): boolean {
    return this.config.net.icmp.enabled;
  }

  /** The program to run: NET_PING_PATH, else the first executable `ping` on PATH; undefined when there is none. */
  program(): string | undefined {
    const configured = this.config.net.icmp.pingPath;
    const candidates = configured ? [configured] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'ping'));
    return candidates.find(isExecutableFile);
  }

  /** Sends `count` echo requests to `address` (an IP literal) and returns the replies. */
  async ping(address: string, count: number, timeoutMs: number, signal?: AbortSignal): Promise<EchoReply[]> {
    const program = this.program();
    if (!program) {
      throw new ToolError('ICMP ping is not available on this server (no ping program); use method "tcp"', { code: 'net_icmp_unavailable' });
    }
    const args = pingArguments(address, count, timeoutMs);
    const limitMs = count * (INTERVAL_SECONDS * 1000) + timeoutMs + 2_000;
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        program,
        args,
        { shell: false, timeout: limitMs, signal, maxBuffer: 64 * 1024, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } },
        (error, stdout) => {
          // Exit code 1: no reply at all, which is an answer, not a failure.
          if (error && !(typeof error.code === 'number' && error.code === 1)) reject(error);
          else resolve(stdout);
        },
      );
    }).catch((e: NodeJS.ErrnoException & { code?: unknown }) => {
      if (signal?.aborted) throw e;
      throw new ToolError(`ICMP ping of ${address} failed (${typeof e.code === 'number' ? `exit code ${e.code}` : (e.code ?? 'error')})`, {
        code: 'net_icmp_failed',
      });
    });
    return parsePingOutput(output);
  }
}

/** The argument list for iputils `ping`, from values checked here again (the program never sees a name or an option from the caller). */
export function pingArguments(address: string, count: number, timeoutMs: number): string[] {
  if (!ipaddr.isValid(address) || !/^[0-9a-fA-F.:]+$/.test(address)) throw new Error(`not an IP address: ${address}`);
  if (!Number.isInteger(count) || count < 1 || count > 10) throw new Error(`count out of range: ${count}`);
  const waitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const family = ipaddr.parse(address).kind() === 'ipv6' ? '-6' : '-4';
  return [family, '-n', '-c', String(count), '-i', String(INTERVAL_SECONDS), '-W', String(waitSeconds), '--', address];
}

/** Echo replies in iputils output: `64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms`. */
export function parsePingOutput(output: string): EchoReply[] {
  const replies: EchoReply[] = [];
  for (const line of output.split('\n')) {
    const m = /icmp_seq=(\d+).*\btime[=<]\s*([\d.]+)\s*ms/.exec(line);
    if (m) replies.push({ seq: Number(m[1]), timeMs: Number(m[2]) });
  }
  return replies;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
