#!/usr/bin/env node
// Tool-call throughput with the audit log on versus off, in one process and one run
// (the machine is shared and noisy: only numbers from the same run compare).
//
//   npm run build && node bench/audit.mjs [--seconds 5] [--connections 16] [--rounds 2]
//
// Boots Portico on the embedded database (or DATABASE_URL), drives modern-era
// tools/call requests over keep-alive HTTP, alternating rounds with the audit
// listener attached and detached, and prints one JSON line. Target: ratio >= 0.9.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' }, rounds: { type: 'string', default: '4' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);

const { startPortico } = require('../dist/src/bootstrap.js');
const { loadConfig } = require('../dist/src/config/app-config.js');
const { AuditService } = require('../dist/src/audit/audit.service.js');
const { ToolInvoker } = require('../dist/libs/mcp-core/src/index.js');

const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-'));
const token = 'bench-token-0123456789abcdef';
const portico = await startPortico(
  loadConfig({ PORT: '0', STATUS_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'error', AUTH_TOKENS: `bench:${token}`, RATE_LIMIT_REQUESTS: '0', DATABASE_URL: process.env.DATABASE_URL ?? '' }),
);
const invoker = portico.app.get(ToolInvoker);
const audit = portico.app.get(AuditService);

const headers = {
  Authorization: `Bearer ${token}`,
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
  'MCP-Protocol-Version': '2026-07-28',
  'Mcp-Method': 'tools/call',
  'Mcp-Name': 'get_current_time',
};
const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'get_current_time',
    arguments: { timezone: 'Europe/Berlin' },
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} },
  },
});

async function round(label) {
  const cpu = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const latencies = [];
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        const res = await fetch(portico.mcpUrl, { method: 'POST', headers, body });
        const text = await res.text();
        latencies.push(performance.now() - t);
        if (res.status === 200 && text.includes('Europe/Berlin')) done++;
        else errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const p = (q) => Math.round(latencies[Math.floor(q * (latencies.length - 1))] * 100) / 100;
  const used = process.cpuUsage(cpu);
  // CPU per call (server and load generator share the process) is steadier than req/s on a busy machine.
  const cpuUsPerCall = Math.round((used.user + used.system) / Math.max(done, 1));
  return { label, rps: Math.round(done / seconds), cpu_us_per_call: cpuUsPerCall, errors, p50_ms: p(0.5), p99_ms: p(0.99) };
}

await round('warmup');
invoker.removeListener(audit); // attached at boot; each "on" round attaches it again
const results = [];
// ABBA order, so warm-up drift and GC debt from the previous round fall on both sides alike.
for (let i = 0; i < rounds; i++) {
  for (const on of i % 2 === 0 ? [true, false] : [false, true]) {
    if (on) invoker.addListener(audit);
    results.push(await round(on ? 'audit_on' : 'audit_off'));
    if (on) invoker.removeListener(audit);
  }
}
invoker.addListener(audit);
await audit.flush();
const mean = (label) => results.filter((r) => r.label === label).reduce((s, r) => s + r.rps, 0) / rounds;
const ratio = Math.round((mean('audit_on') / mean('audit_off')) * 1000) / 1000;
const cpu = (label) => results.filter((r) => r.label === label).reduce((s, r) => s + r.cpu_us_per_call, 0) / rounds;
// Throughput bound by CPU: the cost ratio is the steadier estimate of the throughput ratio.
const cpuRatio = Math.round((cpu('audit_off') / cpu('audit_on')) * 1000) / 1000;
process.stdout.write(
  JSON.stringify({
    bench: 'audit',
    database: process.env.DATABASE_URL ? 'postgres' : 'embedded',
    seconds,
    connections,
    rounds: results,
    audit_on_rps: Math.round(mean('audit_on')),
    audit_off_rps: Math.round(mean('audit_off')),
    ratio,
    cpu_us_per_call_on: Math.round(cpu('audit_on')),
    cpu_us_per_call_off: Math.round(cpu('audit_off')),
    cpu_ratio: cpuRatio,
    target: 0.9,
  }) + '\n',
);
await portico.close();
rmSync(dataDir, { recursive: true, force: true });
