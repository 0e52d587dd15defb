#!/usr/bin/env node
// Soak: the built app as a child process (`node dist/src/main.js`) under mixed traffic for a
// while, sampled every few seconds; fails when memory keeps growing after warm-up or when the
// sessions clients abandoned are not reclaimed by their idle TTL once traffic stops.
//
//   npm run build && npm run soak -- [--seconds 90] [--rate 60] [--clients 16] [--ttl 5] [--no-ttl]
//
// Exit codes: 0 every check passed; 3 a check failed (the table says which); 1 the harness
// itself broke (Portico did not start, exited early...). `--no-ttl` (or SOAK_NO_TTL=1) runs
// with the idle TTL effectively off and must exit 3: CI runs it to prove the checks can fail.
// bench/soak/README.md explains the checks and the long run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { metric, regression } from './stats.mjs';
import { ACTIONS, pick } from './traffic.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '90' },
    warmup: { type: 'string' },
    clients: { type: 'string', default: '16' },
    rate: { type: 'string', default: '60' },
    ttl: { type: 'string', default: '5' },
    'no-ttl': { type: 'boolean', default: process.env.SOAK_NO_TTL === '1' },
    sample: { type: 'string', default: '2' },
    'max-slope': { type: 'string', default: '16384' },
    'log-level': { type: 'string', default: 'info' },
  },
});
const seconds = Number(args.seconds);
const warmup = Number(args.warmup ?? Math.min(300, Math.max(30, Math.round(seconds / 3))));
const clients = Number(args.clients);
const rate = Number(args.rate);
const ttl = Number(args.ttl);
const sampleEvery = Number(args.sample);
const maxSlopeKbPerMin = Number(args['max-slope']);
const noTtl = args['no-ttl'];

const TOKENS = Array.from({ length: 4 }, (_, i) => [`soak${i}`, `soak-token-${i}-${'0123456789abcdef'.repeat(2)}`]);
const METRICS_TOKEN = 'soak-metrics-token-0123456789abcdef';

function fail(message) {
  console.error(`soak: ${message}`);
  process.exit(1);
}

// ---- boot ------------------------------------------------------------------------------------
const main = join(ROOT, 'dist', 'src', 'main.js');
if (!existsSync(main)) fail(`${main} is missing: run \`npm run build\` first`);
const dataDir = mkdtempSync(join(tmpdir(), 'portico-soak-'));
const probe = join(ROOT, 'bench', 'soak', 'heap-probe.cjs');
const child = spawn(process.execPath, ['--expose-gc', '--require', probe, main], {
  cwd: ROOT,
  stdio: ['ignore', 'ignore', 'pipe'],
  env: {
    PATH: process.env.PATH ?? '',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    DATA_DIR: dataDir,
    PORT: '0',
    STATUS_PORT: '0',
    LOG_LEVEL: args['log-level'],
    SOAK_HEAP_PROBE_MS: '5000',
    AUTH_TOKENS: TOKENS.map(([name, token]) => `${name}:${token}`).join(','),
    METRICS_TOKEN,
    RATE_LIMIT_REQUESTS: '0',
    // With TTL off, sessions are kept ~115 days: what a leak of abandoned sessions looks like.
    SESSION_IDLE_TTL_SECONDS: String(noTtl ? 10_000_000 : ttl),
    SESSION_MAX_AGE_SECONDS: String(noTtl ? 10_000_000 : 24 * 3600),
    // The per-principal cap would reclaim abandoned sessions too; the soak is about the TTL.
    SESSION_MAX_PER_PRINCIPAL: '1000000',
  },
});
let stderrTail = '';
let exited = false;
let liveHeap;
child.stderr.on('data', (d) => {
  stderrTail = (stderrTail + d.toString()).slice(-20_000);
  const probed = [...d.toString().matchAll(/"soakLiveHeap":(\d+)/g)].pop();
  if (probed) liveHeap = Number(probed[1]);
});
child.on('exit', (code, signal) => {
  exited = true;
  if (!stopping) {
    console.error(stderrTail);
    fail(`Portico exited during the soak (${code ?? signal})`);
  }
});
let stopping = false;

const urls = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`Portico did not start in 60 s:\n${stderrTail}`)), 60_000);
  child.stderr.on('data', function ready() {
    const m = stderrTail.match(/"mcpUrl":"(http:\/\/[^"]+\/mcp)","statusUrl":"(http:\/\/[^"]+)"/);
    if (!m) return;
    clearTimeout(timer);
    child.stderr.off('data', ready);
    resolve({ mcpUrl: m[1], baseUrl: m[1].replace(/\/mcp$/, ''), statusUrl: m[2] });
  });
}).catch((e) => fail(e.message));

// ---- sampling --------------------------------------------------------------------------------
const started = Date.now();
const counts = { requests: 0, surprises: 0, expired: 0, byAction: {}, unexpected: {} };
const samples = [];

function rssKb() {
  const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}

async function sample(phase) {
  const text = await (await fetch(`${urls.statusUrl}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const s = {
    t: Math.round((Date.now() - started) / 100) / 10,
    phase,
    rssKb: rssKb(),
    heapKb: Math.round(metric(text, 'nodejs_heap_size_used_bytes') / 1024),
    liveKb: Math.round((liveHeap ?? NaN) / 1024),
    lagP99Ms: Math.round(metric(text, 'nodejs_eventloop_lag_p99_seconds') * 10_000) / 10,
    sessions: metric(text, 'portico_active_sessions'),
    auditQueue: metric(text, 'portico_audit_queue_depth'),
    journalKb: Math.round(metric(text, 'portico_audit_journal_bytes') / 1024),
    requests: counts.requests,
  };
  samples.push(s);
  const prev = samples.at(-2);
  const rps = prev ? Math.round((s.requests - prev.requests) / (s.t - prev.t)) : 0;
  console.log(
    [s.t.toFixed(0).padStart(6), phase.padEnd(8), (s.rssKb / 1024).toFixed(1).padStart(8), (s.heapKb / 1024).toFixed(1).padStart(8), (s.liveKb / 1024).toFixed(1).padStart(8), s.lagP99Ms.toFixed(1).padStart(9), String(s.sessions).padStart(9), String(s.auditQueue).padStart(7), String(s.journalKb).padStart(10), String(rps).padStart(6), String(counts.surprises).padStart(6)].join(' '),
  );
  return s;
}

console.log(
  `soak: ${seconds} s of traffic (warm-up ${warmup} s), ${clients} clients at ${rate} actions/s, session idle TTL ${noTtl ? 'off' : `${ttl} s`}, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded database'}, pid ${child.pid}`,
);
console.log(['t (s)', 'phase', 'rss MB', 'heap MB', 'live MB', 'lag p99', 'sessions', 'audit q', 'journal KB', 'act/s', 'errors'].map((h, i) => (i === 1 ? h.padEnd(8) : h.padStart(i === 0 ? 6 : 8))).join(' '));

// ---- traffic ---------------------------------------------------------------------------------
const ttlMs = (noTtl ? 10_000_000 : ttl) * 1000;
const ctxs = TOKENS.map(([, token]) => ({ ...urls, ttlMs, auth: { Authorization: `Bearer ${token}` } }));
const trafficEnds = started + seconds * 1000;
const phase = () => (Date.now() - started < warmup * 1000 ? 'warm-up' : 'traffic');

// A constant arrival rate (--rate actions/s over --clients connections): a steady load has a
// steady working set, so memory that still grows after warm-up is a leak, not more traffic.
let nextSlot = Date.now();
async function slot() {
  const at = (nextSlot = Math.max(nextSlot, Date.now() - 1000) + 1000 / rate);
  if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
}

async function client(i) {
  const ctx = ctxs[i % ctxs.length];
  while ((await slot(), Date.now() < trafficEnds) && !exited) {
    const name = pick();
    let status;
    let expected = 200;
    let tolerated = false;
    try {
      ({ status, expected, tolerated = false } = await ACTIONS[name](ctx));
    } catch (e) {
      status = e.cause?.code ?? e.code ?? e.name;
    }
    counts.requests++;
    const c = (counts.byAction[name] ??= { ok: 0, other: 0 });
    if (status === expected) c.ok++;
    else if (tolerated) counts.expired++;
    else {
      c.other++;
      counts.surprises++;
      const key = `${name} ${status}`;
      counts.unexpected[key] = (counts.unexpected[key] ?? 0) + 1;
    }
  }
}

const sampler = setInterval(() => void sample(phase()).catch((e) => console.error(`sample failed: ${e.message}`)), sampleEvery * 1000);
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
clearInterval(sampler);
const atStop = await sample('stop');

// ---- reclaim: after traffic stops, sessions end by their TTL (+ one sweep), the audit backlog drains
// LiveSessionRegistry closes expired sessions every min(30 s, idle TTL) (sweepIntervalMs).
const sweep = Math.min(30, ttl);
const reclaimDeadline = ttl + sweep + 5;
const stopAt = Date.now();
let reclaimed;
while ((Date.now() - stopAt) / 1000 < reclaimDeadline) {
  await new Promise((r) => setTimeout(r, 1000));
  const s = await sample('drain');
  if (s.sessions === 0 && s.auditQueue === 0 && s.journalKb === 0) {
    reclaimed = Math.round((Date.now() - stopAt) / 100) / 10;
    break;
  }
}
const end = samples.at(-1);

stopping = true;
child.kill('SIGTERM');
await new Promise((r) => (exited ? r() : child.once('exit', r)));
rmSync(dataDir, { recursive: true, force: true });

// ---- verdict ---------------------------------------------------------------------------------
const steady = samples.filter((s) => s.phase === 'traffic');
const perMin = (key) => Math.round(regression(steady.map((s) => ({ x: s.t / 60, y: s[key] }))).slope);
const rssSlope = perMin('rssKb');
const liveSlope = perMin('liveKb');
const { r2 } = regression(steady.map((s) => ({ x: s.t / 60, y: s.liveKb })));
const lags = steady.map((s) => s.lagP99Ms).sort((a, b) => a - b);
const first = steady[0];
const last = steady.at(-1);

console.log('\nrequests by action (ok / other):', Object.entries(counts.byAction).map(([k, v]) => `${k} ${v.ok}/${v.other}`).join(', '));
if (counts.surprises) console.log('unexpected answers:', counts.unexpected);
if (counts.expired) console.log(`sessions that expired while their client stalled past the TTL (not errors): ${counts.expired}`);
const checks = [
  [
    `memory slope after warm-up: live heap ${liveSlope} KB/min (r² ${r2.toFixed(2)}; ${(first.liveKb / 1024).toFixed(1)} -> ${(last.liveKb / 1024).toFixed(1)} MB), RSS ${rssSlope} KB/min (${(first.rssKb / 1024).toFixed(1)} -> ${(last.rssKb / 1024).toFixed(1)} MB); limit ${maxSlopeKbPerMin} KB/min on the live heap`,
    steady.length >= 5 && liveSlope <= maxSlopeKbPerMin,
  ],
  [
    `sessions reclaimed after traffic stopped: ${atStop.sessions} open at stop, ${reclaimed === undefined ? `${end.sessions} still open after ${reclaimDeadline} s` : `0 after ${reclaimed} s`} (limit: idle TTL ${ttl} s + sweep ${sweep} s + 5 s)`,
    reclaimed !== undefined,
  ],
  [`audit backlog drained: queue ${end.auditQueue}, journal ${end.journalKb} KB`, end.auditQueue === 0 && end.journalKb === 0],
  [`no unexpected answers (5xx, dropped connections): ${counts.surprises} of ${counts.requests} requests`, counts.surprises === 0],
];
console.log(`event-loop lag p99 per ${sampleEvery} s sample after warm-up: median ${lags[Math.floor(lags.length / 2)]} ms, max ${lags.at(-1)} ms; ${Math.round(counts.requests / seconds)} actions/s`);
for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
const passed = checks.every(([, ok]) => ok);
console.log(passed ? 'soak passed' : `soak FAILED${noTtl ? ' (as it must with --no-ttl)' : ''}`);
process.exit(passed ? 0 : 3);
