#!/usr/bin/env node
// Legacy-session tool calls against three deployments, side by side, in one run (the machine
// is shared and noisy: only numbers from the same run compare):
//
//   memory    1 instance, sessions in memory (no REDIS_URL)
//   redis     1 instance, sessions, events and limits in Redis (REDIS_URL)
//   fleet     2 instances on Redis behind Debian's nginx, plain round-robin
//
//   npm run build && node bench/scale-out.mjs [--seconds 8] [--connections 16] [--warmup 2]
//
// Each of `connections` clients opens a legacy (2025-11-25) session through the deployment and
// sends tools/call get_current_time back to back over keep-alive HTTP, checking every answer.
// Prints a table and one JSON line: calls/s, p50/p99 latency, and Portico's CPU per call (all
// its processes; Redis's own CPU is shown apart, it is shared with other users of this Redis).
// Target: the redis deployment costs under 15 % more CPU per call than memory. No assertion.
// Needs redis-server on 127.0.0.1:6379 and, for `fleet`, /usr/sbin/nginx. Runs on PostgreSQL
// when DATABASE_URL is set (migrated), else each instance on its own embedded database.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const NGINX = '/usr/sbin/nginx';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, connections: { type: 'string', default: '16' }, warmup: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const warmup = Number(values.warmup);
if (!existsSync(MAIN)) throw new Error('run `npm run build` first');

const token = 'bench-token-0123456789abcdef';
const temp = mkdtempSync(join(tmpdir(), 'portico-bench-scale-'));
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** user+system CPU seconds of a process, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function redisPid() {
  return Number(/process_id:(\d+)/.exec(execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'info', 'server'], { encoding: 'utf8' }))[1]);
}

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(url).catch(() => undefined))?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function portico(id, redisPrefix) {
  const [port, statusPort] = [await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH,
    PORT: String(port),
    STATUS_PORT: String(statusPort),
    DATA_DIR: join(temp, `data-${id}-${redisPrefix ? 'r' : 'm'}`),
    AUTH_TOKENS: `bench:${token}`,
    RATE_LIMIT_REQUESTS: '0',
    LOG_LEVEL: 'error',
    INSTANCE_ID: id,
    TRUST_PROXY: '1',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...(redisPrefix ? { REDIS_URL, REDIS_PREFIX: redisPrefix } : {}),
  };
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  await waitFor(`http://127.0.0.1:${statusPort}/health/ready`);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function nginx(upstreams) {
  const port = await freePort();
  const dir = join(temp, 'nginx');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  upstream portico { ${upstreams.map((u) => `server ${u};`).join(' ')} keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://portico; proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_buffering off; } } }
`,
  );
  const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  children.push(child);
  await waitFor(`http://127.0.0.1:${port}/health`);
  return { child, url: `http://127.0.0.1:${port}` };
}

const base = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

/** Opens a legacy session; returns its request headers. */
async function session(url) {
  const init = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  await init.text();
  const headers = { ...base, 'Mcp-Session-Id': init.headers.get('mcp-session-id'), 'MCP-Protocol-Version': '2025-11-25' };
  await (await fetch(`${url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  return headers;
}

async function load(url, pids) {
  const sessions = await Promise.all(Array.from({ length: connections }, () => session(url)));
  const run = async (ms, latencies) => {
    const end = Date.now() + ms;
    let calls = 0;
    let errors = 0;
    await Promise.all(
      sessions.map(async (headers, c) => {
        for (let i = 0; Date.now() < end; i++) {
          const started = performance.now();
          const res = await fetch(`${url}/mcp`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'get_current_time', arguments: { timezone: 'Europe/Berlin' } } }),
          });
          const text = await res.text();
          if (res.status !== 200 || !text.includes(`"id":${i + 1}`) || !text.includes('Europe/Berlin')) {
            errors++;
            if (errors < 3) process.stderr.write(`connection ${c}: ${res.status} ${text.slice(0, 200)}\n`);
          } else calls++;
          latencies?.push(performance.now() - started);
        }
      }),
    );
    return { calls, errors };
  };
  await run(warmup * 1000);
  const latencies = [];
  const redis = redisPid();
  const cpuBefore = pids.map(cpuSeconds);
  const redisBefore = cpuSeconds(redis);
  const { calls, errors } = await run(seconds * 1000, latencies);
  const cpu = pids.map(cpuSeconds).reduce((s, v, i) => s + v - cpuBefore[i], 0);
  latencies.sort((x, y) => x - y);
  const pct = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] * 100) / 100;
  return {
    callsPerSecond: Math.round(calls / seconds),
    p50Ms: pct(50),
    p99Ms: pct(99),
    porticoCpuUsPerCall: Math.round((cpu / calls) * 1e6),
    redisCpuUsPerCall: Math.round(((cpuSeconds(redis) - redisBefore) / calls) * 1e6),
    errors,
  };
}

const results = {};
const stop = async (...procs) => {
  for (const p of procs) p.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
};

{
  const one = await portico('memory');
  results.memory = await load(one.url, [one.child.pid]);
  await stop(one);
}
const prefix = `portico-bench:${randomBytes(4).toString('hex')}:`;
{
  const one = await portico('redis', prefix);
  results.redis = await load(one.url, [one.child.pid]);
  await stop(one);
}
if (existsSync(NGINX)) {
  const [a, b] = [await portico('a', prefix), await portico('b', prefix)];
  const lb = await nginx([a.url, b.url].map((u) => u.replace('http://', '')));
  results.fleet = await load(lb.url, [a.child.pid, b.child.pid]);
  await stop(lb, a, b);
} else {
  process.stderr.write(`${NGINX} is missing: the fleet deployment is skipped (apt-get install -y nginx)\n`);
}
try {
  const keys = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 500) execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'del', ...keys.slice(i, i + 500)]);
} catch {
  // best effort
}

const cost = (x) => `${Math.round((x / results.memory.porticoCpuUsPerCall - 1) * 1000) / 10} %`;
const rows = Object.entries(results).map(([name, r]) => ({ deployment: name, ...r, cpuVsMemory: cost(r.porticoCpuUsPerCall) }));
console.table(rows);
console.log(JSON.stringify({ bench: 'scale-out', seconds, connections, results, redisCpuCostVsMemory: cost(results.redis.porticoCpuUsPerCall) }));
process.exit(0);
