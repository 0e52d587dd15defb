import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './nginx';
import { ROOT, spawnPortico } from './process';

export type NginxVariant = 'default' | 'buffering-on' | 'slash-redirect' | 'well-known-auth' | 'short-timeouts';

/** nginx, with nginx/portico.conf adapted by scripts/nginx-front.js, in front of an upstream. */
export interface NginxFront {
  /** https://127.0.0.1:<port> */
  https: string;
  /** http://127.0.0.1:<port> (ACME challenge and the redirect to https) */
  http: string;
  /** The self-signed certificate, to trust. */
  ca: string;
  /** The output of `nginx -t` on the adapted configuration. */
  nginxTest: string;
  /** The adapted portico.conf's folder (logs/ inside). */
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts scripts/nginx-front.js (which starts nginx as its child) and waits for its ready line.
 * Its stdin stays open: if this process dies, the front sees EOF and stops nginx.
 */
export async function startNginxFront(
  upstream: string,
  options: { variant?: NginxVariant; prefix?: boolean; httpsPort?: number; httpPort?: number } = {},
): Promise<NginxFront> {
  const args = [join(ROOT, 'scripts', 'nginx-front.js'), '--upstream', upstream, '--variant', options.variant ?? 'default'];
  if (options.prefix) args.push('--prefix');
  if (options.httpsPort) args.push('--https-port', String(options.httpsPort));
  if (options.httpPort) args.push('--http-port', String(options.httpPort));
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`nginx-front exited ${code} before it was ready:\n${stderr}`)));
  });
  const ready = JSON.parse(line) as Omit<NginxFront, 'stop'>;
  return {
    ...ready,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A Portico of its own process (dist/src/main.js), as deployed. */
export interface SpawnedPortico {
  port: number;
  mcpUrl: string;
  statusUrl: string;
  stop(): Promise<void>;
}

/**
 * Runs the compiled app in a process of its own on `port` (free if 0) with static tokens alice and
 * bob, on PostgreSQL when DATABASE_URL is set, else a fresh embedded database. Separate processes
 * keep several instances apart: in one process, passport's strategies are registered globally
 * and the last instance booted would authenticate for all of them.
 */
export async function spawnedPortico(env: Record<string, string>, port = 0, tokens = 'alice:alice-token-0123456789abcdef,bob:bob-token-0123456789abcdef'): Promise<SpawnedPortico> {
  const [mcpPort, statusPort] = [port || (await freePort()), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-spawned-'));
  const run = spawnPortico({ HOST: '127.0.0.1', PORT: String(mcpPort), STATUS_PORT: String(statusPort), DATA_DIR: dataDir, LOG_LEVEL: 'warn', AUTH_TOKENS: tokens, ...env });
  const health = `http://127.0.0.1:${mcpPort}/health`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (run.child.exitCode !== null) throw new Error(`Portico exited during start-up:\n${run.stderr().slice(-3000)}`);
    const ok = await fetch(health).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`Portico did not answer ${health} within 60 s:\n${run.stderr().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port: mcpPort,
    mcpUrl: `http://127.0.0.1:${mcpPort}/mcp`,
    statusUrl: `http://127.0.0.1:${statusPort}`,
    async stop() {
      if (run.child.exitCode === null) run.child.kill('SIGTERM');
      await run.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What `portico doctor --json` printed, and its exit code. */
export interface DoctorRun {
  code: number | string;
  report: {
    url: string;
    ok: boolean;
    checks: { id: string; status: 'pass' | 'fail' | 'warn' | 'skip'; required: boolean; detail: string; hint?: string }[];
  };
  stderr: string;
  /** Ids of the checks that failed and are required. */
  failed: string[];
  status(id: string): string | undefined;
  check(id: string): DoctorRun['report']['checks'][number];
}

/** Runs the compiled `portico doctor <url> … --json` as an operator would, and parses its report. */
export async function runDoctorCli(url: string, args: string[] = []): Promise<DoctorRun> {
  const run = spawnPortico({}, ['doctor', url, ...args, '--json'], { script: join(ROOT, 'dist', 'src', 'cli', 'portico.js') });
  const code = await run.exited;
  let report: DoctorRun['report'];
  try {
    report = JSON.parse(run.stdout());
  } catch {
    throw new Error(`portico doctor printed no JSON (exit ${code}):\n${run.stdout()}\n${run.stderr()}`);
  }
  return {
    code,
    report,
    stderr: run.stderr(),
    failed: report.checks.filter((c) => c.required && c.status === 'fail').map((c) => c.id),
    status: (id) => report.checks.find((c) => c.id === id)?.status,
    check: (id) => {
      const c = report.checks.find((x) => x.id === id);
      if (!c) throw new Error(`no check ${id} in ${JSON.stringify(report.checks.map((x) => x.id))}`);
      return c;
    },
  };
}
