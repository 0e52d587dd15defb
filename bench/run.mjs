#!/usr/bin/env node
// `npm run bench`: Portico against the raw ceiling, the SDK and the peer frameworks, in one run on
// this machine (only numbers from the same run compare: the machine is shared and noisy). Every
// server runs in its own fresh process, one at a time, the lineup alternating direction between
// rounds. Writes bench/results/<date>.md and .json; exits non-zero when a response failed
// verification or a server failed to start. bench/README.md describes the scenarios.
//
//   node bench/run.mjs [--quick] [--rounds 2] [--seconds 10] [--warmup 2] [--connections 16]
//                      [--sessions 1000] [--sustain 60] [--only calls,sessions,audit,sustained,startup]
//                      [--servers raw,portico-legacy,...]
//   node bench/run.mjs --write-results   copies the latest bench/results/*.md to bench/RESULTS.md
//   node bench/run.mjs --render bench/results/<run>.json   re-renders that run's markdown
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { callLoad, openSessions } from './lib/load.mjs';
import { freePort, rssKb, sleep, startServer, stopServer } from './lib/proc.mjs';
import { markdown, targets } from './lib/report.mjs';
import { selfCheck } from './lib/selfcheck.mjs';
import { porticoEnv, REDIS_URL, SERVERS, tempDir, TOKEN } from './lib/servers.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '16' },
    sessions: { type: 'string' },
    sustain: { type: 'string' },
    only: { type: 'string' },
    servers: { type: 'string' },
    'write-results': { type: 'boolean', default: false },
    render: { type: 'string' },
  },
});

if (opt.render) {
  // Re-renders a run's markdown (and its verdicts) from its JSON, after a change to the report.
  const { meta, targets: _old, ...results } = JSON.parse(readFileSync(opt.render, 'utf8'));
  const verdicts = targets(results);
  writeFileSync(opt.render, JSON.stringify({ meta, targets: verdicts, ...results }, null, 2) + '\n');
  writeFileSync(opt.render.replace(/\.json$/, '.md'), markdown(meta, results, verdicts));
  process.stderr.write(`re-rendered ${opt.render.replace(/\.json$/, '.md')}\n`);
  process.exit(0);
}

if (opt['write-results']) {
  const latest = existsSync(RESULTS) ? readdirSync(RESULTS).filter((f) => f.endsWith('.md') && !f.includes('-quick')).sort().at(-1) : undefined;
  if (!latest) throw new Error('no bench/results/*.md yet: run `npm run bench` first');
  const note = `<!-- Copied from bench/results/${latest} by \`node bench/run.mjs --write-results\`; regenerate, do not edit. -->\n\n`;
  writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), note + readFileSync(join(RESULTS, latest), 'utf8'));
  process.stderr.write(`bench/RESULTS.md <- bench/results/${latest}\n`);
  process.exit(0);
}
if (!existsSync(MAIN)) throw new Error('run `npm run build` first (Portico runs from dist/)');

const quick = opt.quick;
const num = (v, full, short) => Number(v ?? (quick ? short : full));
const cfg = {
  rounds: num(opt.rounds, 2, 1),
  seconds: num(opt.seconds, 10, 0.5),
  warmup: num(opt.warmup, 2, 0.2),
  connections: Number(opt.connections),
  sessions: num(opt.sessions, 1000, 30),
  sustain: num(opt.sustain, 60, 2),
  /** A batch of sessions stops after this long, complete or not (a safety net). */
  sessionsMaxMs: quick ? 3000 : 90_000,
  /** How long the idle RSS settles before it is read. */
  settleMs: quick ? 200 : 2000,
};
const scenarios = new Set((opt.only ?? 'calls,sessions,audit,sustained,startup').split(','));
const chosen = opt.servers ? opt.servers.split(',') : Object.keys(SERVERS);
for (const key of chosen) if (!SERVERS[key]) throw new Error(`unknown server ${key}; known: ${Object.keys(SERVERS).join(', ')}`);

const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const results = { calls: [], sessions: [], audit: [], sustained: [], startup: [], failures: [] };
const redisPrefix = `portico-bench:${randomBytes(4).toString('hex')}:`;
const dataDir = tempDir('data');
const auth = { authorization: `Bearer ${TOKEN}` };

/** Starts a lineup entry on free ports; returns the running server and its /mcp URL. */
async function start(key, nodeArgs = []) {
  const s = SERVERS[key];
  const port = await freePort();
  if (!s.portico) {
    const server = await startServer({ script: s.script, nodeArgs, env: { PORT: String(port), ...s.env }, cwd: ROOT, port });
    return { server, url: `http://127.0.0.1:${port}/mcp`, headers: {} };
  }
  const status = await freePort();
  const env = { ...porticoEnv(dataDir), PORT: String(port), STATUS_PORT: String(status), ...s.env, ...(s.redis && { REDIS_URL, REDIS_PREFIX: redisPrefix }) };
  const server = await startServer({ script: s.script, nodeArgs, env, cwd: ROOT, readyUrl: `http://127.0.0.1:${status}/health/ready` });
  return { server, url: `http://127.0.0.1:${port}/mcp`, headers: auth };
}

/** Runs `fn` against a fresh process of `key`; a failure to start (or a crash) is recorded, not thrown. */
async function withServer(scenario, key, round, fn, nodeArgs) {
  let running;
  try {
    running = await start(key, nodeArgs);
    const out = { ready_ms: running.server.readyMs, ...(await fn(running)) };
    if (running.server.child.exitCode !== null || running.server.child.signalCode) throw new Error(`exited during the run: ${running.server.stderr().slice(-1000)}`);
    return out;
  } catch (e) {
    results.failures.push({ scenario, key, round, error: String(e.message ?? e).slice(0, 2000) });
    log(`FAILED ${scenario} ${key}: ${String(e.message ?? e).slice(0, 500)}`);
    return undefined;
  } finally {
    if (running) await stopServer(running.server);
  }
}

const ordered = (keys, round) => (round % 2 === 0 ? keys : [...keys].reverse());

async function callsScenario(round) {
  for (const key of ordered(chosen, round)) {
    const s = SERVERS[key];
    const r = await withServer('calls', key, round, async ({ server, url, headers }) =>
      callLoad({ url, era: s.era, connections: cfg.connections, warmupMs: cfg.warmup * 1000, durationMs: cfg.seconds * 1000, headers, pid: server.pid }),
    );
    if (!r) continue;
    results.calls.push({ key, round, label: s.label, ...r });
    log(`calls ${key} r${round + 1} (ready in ${r.ready_ms} ms): ${r.rps} rps, ${r.server_cpu_us_per_call} µs CPU/call, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ${r.errors} errors`);
    if (r.errors) log(`  ${JSON.stringify(r.error_kinds)} ${r.error_samples.join(' | ')}`);
  }
}

async function sessionsScenario(round) {
  const keys = chosen.filter((k) => SERVERS[k].sessions);
  for (const key of ordered(keys, round)) {
    const r = await withServer('sessions', key, round, async ({ server, url, headers }) => {
      await sleep(cfg.settleMs);
      const fresh = rssKb(server.pid);
      const batch = async () => {
        const b = await openSessions({ url, count: Math.min(cfg.sessions, SERVERS[key].sessionBatch ?? Infinity), connections: cfg.connections, headers, pid: server.pid, maxMs: cfg.sessionsMaxMs });
        await sleep(cfg.settleMs);
        return { ...b, rss_after_kb: rssKb(server.pid) };
      };
      const a = await batch();
      const b = await batch();
      const marginal = a.complete && b.complete ? Math.round(((b.rss_after_kb - a.rss_after_kb) / b.sessions) * 10) / 10 : null;
      return { rss_fresh_kb: fresh, a, b, kb_per_session_marginal: marginal, errors: a.errors + b.errors };
    });
    if (!r) continue;
    results.sessions.push({ key, round, label: SERVERS[key].label, ...r });
    log(`sessions ${key} r${round + 1}: ${r.a.sessions_per_s}/s (first batch), ${r.kb_per_session_marginal} KB per idle session (marginal), ${r.errors} errors`);
    if (r.errors) log(`  ${[...r.a.error_samples, ...r.b.error_samples].join(' | ')}`);
  }
}

/**
 * Audit on versus off in one Portico process per era: phases on, off, off, on (then the reverse
 * order in the next round), the listener switched by signal between phases, so that drift and
 * other work on the machine fall on both sides alike.
 */
async function auditScenario(round) {
  const phases = round % 2 === 0 ? ['on', 'off', 'off', 'on'] : ['off', 'on', 'on', 'off'];
  for (const key of ['portico-legacy', 'portico-modern'].filter((k) => chosen.includes(k))) {
    const rows = await withServer('audit', key, round, async ({ server, url, headers }) => {
      const out = [];
      for (const [i, phase] of phases.entries()) {
        server.child.kill(phase === 'on' ? 'SIGWINCH' : 'SIGUSR2');
        await sleep(100);
        const r = await callLoad({ url, era: SERVERS[key].era, connections: cfg.connections, warmupMs: i === 0 ? cfg.warmup * 1000 : 0, durationMs: (cfg.seconds * 1000) / 2, headers, pid: server.pid });
        out.push({ phase, ...r });
      }
      return { rows: out };
    });
    if (!rows) continue;
    for (const r of rows.rows) results.audit.push({ key, round, ...r });
    const by = (phase) => rows.rows.filter((r) => r.phase === phase);
    const sum = (xs, f) => xs.reduce((s, r) => s + r[f], 0);
    log(`audit ${key} r${round + 1}: on ${Math.round(sum(by('on'), 'rps') / 2)} rps, off ${Math.round(sum(by('off'), 'rps') / 2)} rps, ${sum(rows.rows, 'errors')} errors`);
  }
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

async function sustainedScenario() {
  // Quick: the legacy era only (it holds sessions); the full run does both.
  for (const key of (quick ? ['portico-legacy'] : ['portico-legacy', 'portico-modern']).filter((k) => chosen.includes(k))) {
    const r = await withServer(
      'sustained',
      key,
      0,
      async ({ server, url, headers }) => {
        const samples = [];
        const t0 = performance.now();
        const load = await callLoad({
          url,
          era: SERVERS[key].era,
          connections: cfg.connections,
          warmupMs: 0,
          durationMs: cfg.sustain * 1000,
          headers,
          pid: server.pid,
          onTick: () => samples.push([(performance.now() - t0) / 1000, rssKb(server.pid) / 1024]),
        });
        // The first sixth is warm-up (JIT, pools, caches filling); the slope is fitted on the rest.
        const steady = samples.filter(([t]) => t >= cfg.sustain / 6);
        const mbPerMin = steady.length > 2 ? slope(steady) * 60 : null;
        const window = steady.length > 1 ? steady.at(-1)[0] - steady[0][0] : 0;
        const rss = steady.map(([, mb]) => mb);
        return {
          ...load,
          heap_limit_mb: 128,
          rss_samples_mb: samples.map(([t, mb]) => [Math.round(t * 10) / 10, Math.round(mb * 10) / 10]),
          rss_start_mb: rss.length ? Math.round(rss[0] * 10) / 10 : null,
          rss_end_mb: rss.length ? Math.round(rss.at(-1) * 10) / 10 : null,
          rss_slope_mb_per_min: mbPerMin === null ? null : Math.round(mbPerMin * 100) / 100,
          rss_fitted_growth_mb: mbPerMin === null ? null : Math.round(((mbPerMin * window) / 60) * 10) / 10,
        };
      },
      ['--max-old-space-size=128'],
    );
    if (!r) continue;
    results.sustained.push({ key, label: SERVERS[key].label, ...r });
    log(`sustained ${key}: ${r.rps} rps over ${r.seconds} s, RSS ${r.rss_start_mb} -> ${r.rss_end_mb} MB, slope ${r.rss_slope_mb_per_min} MB/min, ${r.errors} errors`);
  }
}

/** PostgreSQL for the startup scenario: its own database on the server, created and migrated once. */
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/portico_bench';
async function preparePostgres() {
  const { Client } = createRequire(MAIN)('pg');
  const url = new URL(PG_URL);
  const name = decodeURIComponent(url.pathname.slice(1));
  const admin = new URL(PG_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
  const migrate = spawnSync(process.execPath, [MAIN, 'migrate'], { cwd: ROOT, env: { PATH: process.env.PATH, DATABASE_URL: PG_URL, LOG_LEVEL: 'warn' }, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`portico migrate failed: ${migrate.stderr.slice(-1000)}`);
}

/** `node dist/src/main.js` exactly as users start it: time to /health/ready, RSS once idle. */
async function startupScenario(round) {
  const fresh = tempDir('startup');
  const modes = [
    ['embedded, first start', { DATA_DIR: join(fresh, 'data') }],
    ['embedded, restart', { DATA_DIR: join(fresh, 'data') }],
    ['postgres', { DATABASE_URL: PG_URL }],
  ];
  if (round === 0) {
    try {
      await preparePostgres();
    } catch (e) {
      results.failures.push({ scenario: 'startup', key: 'postgres', round, error: String(e.message ?? e) });
      log(`FAILED postgres preparation: ${e.message}`);
      modes.pop();
    }
  }
  for (const [mode, extra] of modes) {
    const [port, status] = [await freePort(), await freePort()];
    const env = { ...porticoEnv(fresh), PORT: String(port), STATUS_PORT: String(status), ...extra };
    let server;
    try {
      server = await startServer({ script: MAIN, env, cwd: ROOT, readyUrl: `http://127.0.0.1:${status}/health/ready` });
      await sleep(cfg.settleMs * 2);
      const r = { mode, round, ready_ms: server.readyMs, idle_rss_mb: Math.round(rssKb(server.pid) / 102.4) / 10 };
      results.startup.push(r);
      log(`startup ${mode} r${round + 1}: ready in ${r.ready_ms} ms, idle RSS ${r.idle_rss_mb} MB`);
    } catch (e) {
      results.failures.push({ scenario: 'startup', key: mode, round, error: String(e.message ?? e).slice(0, 2000) });
      log(`FAILED startup ${mode}: ${String(e.message ?? e).slice(0, 500)}`);
    } finally {
      if (server) await stopServer(server, 15_000);
    }
  }
  rmSync(fresh, { recursive: true, force: true });
}

function cleanRedis() {
  try {
    const keys = execFileSync('redis-cli', ['-u', REDIS_URL, '--scan', '--pattern', `${redisPrefix}*`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
    for (let i = 0; i < keys.length; i += 500) execFileSync('redis-cli', ['-u', REDIS_URL, 'del', ...keys.slice(i, i + 500)], { stdio: 'ignore' });
  } catch {
    log(`could not delete the Redis keys ${redisPrefix}* (redis-cli missing, or Redis down?)`);
  }
}

const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
const meta = {
  started: new Date().toISOString(),
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  commit: git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : ''),
  node: process.version,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  cores: cpus().length,
  load_before: loadavg().map((l) => Math.round(l * 100) / 100),
  config: cfg,
  quick,
};
log(`${meta.command} at ${meta.commit}: ${cfg.rounds} round(s), ${cfg.warmup} s warm-up + ${cfg.seconds} s per measurement, ${cfg.connections} connections; load ${meta.load_before.join(' ')}`);

// The client must flag every kind of broken answer before its zero errors mean anything.
await selfCheck();
try {
  for (let round = 0; round < cfg.rounds; round++) {
    if (scenarios.has('calls')) await callsScenario(round);
    if (scenarios.has('sessions')) await sessionsScenario(round);
    if (scenarios.has('audit')) await auditScenario(round);
  }
  if (scenarios.has('sustained')) await sustainedScenario();
  if (scenarios.has('startup')) for (let round = 0; round < cfg.rounds; round++) await startupScenario(round);
} finally {
  cleanRedis();
  rmSync(dataDir, { recursive: true, force: true });
}

meta.finished = new Date().toISOString();
meta.load_after = loadavg().map((l) => Math.round(l * 100) / 100);
const verdicts = targets(results);
mkdirSync(RESULTS, { recursive: true });
const stamp = meta.started.replace(/[:.]/g, '-').slice(0, 19);
writeFileSync(join(RESULTS, `${stamp}${quick ? '-quick' : ''}.json`), JSON.stringify({ meta, targets: verdicts, ...results }, null, 2) + '\n');
const md = join(RESULTS, `${stamp}${quick ? '-quick' : ''}.md`);
writeFileSync(md, markdown(meta, results, verdicts));
const errors = [...results.calls, ...results.sessions, ...results.audit, ...results.sustained].reduce((s, r) => s + r.errors, 0);
log(`wrote ${md}`);
process.stdout.write(readFileSync(md, 'utf8'));
if (errors || results.failures.length) {
  log(`${errors} response(s) failed verification, ${results.failures.length} failure(s)`);
  process.exitCode = 1;
}
