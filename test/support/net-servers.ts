import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** An HTTP server on 127.0.0.1 for the network tools to reach, recording what it was asked. */
export interface LocalHttpServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Method, URL and Host header of every request, in order. */
  requests: { method: string; url: string; host: string }[];
  close(): Promise<void>;
}

export async function startHttpServer(handler: (req: IncomingMessage, res: ServerResponse, origin: string) => void): Promise<LocalHttpServer> {
  const requests: LocalHttpServer['requests'] = [];
  let origin = '';
  const server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '' });
    handler(req, res, origin);
  });
  await listen(server);
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return { port, origin, requests, close: () => close(server) };
}

/** A TCP listener on 127.0.0.1 that accepts and closes connections: an open port. */
export async function startTcpListener(): Promise<{ port: number; accepted: () => number; close(): Promise<void> }> {
  let accepted = 0;
  const server = createTcpServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await listen(server);
  return { port: (server.address() as AddressInfo).port, accepted: () => accepted, close: () => close(server) };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released): connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await close(server);
  return port;
}

/**
 * A stand-in for iputils `ping` in `dir`: prints iputils output with a reply
 * for every sequence number, and appends its argument list (JSON) to
 * `ping-calls.log` beside it. For tests of the ICMP path on machines without
 * `ping`, and to see exactly which arguments it got.
 */
export function fakePing(dir: string): { path: string; calls: () => string[][] } {
  const path = join(dir, 'ping');
  const log = join(dir, 'ping-calls.log');
  writeFileSync(
    path,
    `#!/usr/bin/env node
const args = process.argv.slice(2);
require('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
const count = Number(args[args.indexOf('-c') + 1]);
const address = args[args.length - 1];
const lines = ['PING ' + address + ' (' + address + ') 56(84) bytes of data.'];
for (let seq = 1; seq <= count; seq++) lines.push('64 bytes from ' + address + ': icmp_seq=' + seq + ' ttl=64 time=0.0' + (seq + 2) + ' ms');
lines.push('', '--- ' + address + ' ping statistics ---', count + ' packets transmitted, ' + count + ' received, 0% packet loss, time 1ms');
process.stdout.write(lines.join('\\n') + '\\n');
`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as string[])
        : [],
  };
}

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function close(server: Server | ReturnType<typeof createHttpServer>): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });
}
