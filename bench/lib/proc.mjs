// Server processes: started one at a time by the harness, each a direct child (its pid is the
// server's), measured through /proc/<pid> and stopped by its pid.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** Microseconds per clock tick of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
export const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** utime + stime of a process (all its threads, GC included), in clock ticks. */
export function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident set size of a process, in KB (VmRSS of /proc/<pid>/status). */
export function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function tcpUp(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `node [nodeArgs] script` with `env` (plus PATH) and waits until it is ready: `readyUrl`
 * answers 200, or else the TCP port `port` accepts connections. Returns the child, its pid and
 * the time to ready in ms. The child's stderr is kept (last 4 KB) for the error message.
 */
export async function startServer({ script, args = [], nodeArgs = [], env, cwd, port, readyUrl, timeoutMs = 60_000 }) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4096)));
  child.on('exit', () => running.delete(child));
  const deadline = t0 + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode) break;
    const up = readyUrl ? (await fetch(readyUrl).catch(() => undefined))?.status === 200 : await tcpUp(port);
    if (up) return { child, pid: child.pid, readyMs: Math.round(performance.now() - t0), stderr: () => stderr };
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`${script} did not start (exit ${child.exitCode ?? child.signalCode ?? 'timeout'}): ${stderr.slice(-1500)}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopServer(server, graceMs = 5000) {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}
