// What the harness runs: each entry is one server process configuration and the era its tools/call
// load speaks. Peers run bare (no auth, no audit); Portico runs as users run it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TOKEN = 'bench-token-0123456789abcdef0123';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Portico's environment: bearer auth, audit on, rate limits on (1e9 requests per minute: the
 * limiter runs on every request, and never refuses one), memory stores, production mode.
 * SESSION_MAX_PER_PRINCIPAL is raised so that one token may hold the 2,000 idle sessions of the
 * sessions scenario (the default is 32 per principal).
 */
export function porticoEnv(dataDir) {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    AUTH_TOKENS: `bench:${TOKEN}`,
    RATE_LIMIT_REQUESTS: '1000000000',
    RATE_LIMIT_WINDOW_SECONDS: '60',
    SESSION_MAX_PER_PRINCIPAL: '100000',
  };
}

const peer = (script, label, era, env = {}, extra = {}) => ({ script: `bench/servers/${script}`, label, era, env, ...extra });
const portico = (label, era, env = {}, extra = {}) => ({ script: 'bench/servers/portico.mjs', label, era, env, portico: true, ...extra });

/**
 * The tools/call lineup. `peer` marks the frameworks a user could pick instead of Portico
 * (stateful or stateless); `sessions` the servers of the initialize / idle-session scenario.
 */
export const SERVERS = {
  raw: peer('raw.mjs', 'raw node:http, fixed-shape answer (the ceiling)', 'plain', {}, { sessions: true }),
  'sdk2-modern': peer('sdk2-modern.mjs', 'SDK v2 createMcpHandler on node:http (2026-07-28)', 'modern'),
  'sdk2-legacy': peer('sdk2-legacy.mjs', 'SDK v2 NodeStreamableHTTPServerTransport sessions, SSE', 'legacy', {}, { sessions: true }),
  sdk1: peer('sdk1.mjs', '@modelcontextprotocol/sdk 1.32 stateful on express, JSON', 'legacy', { MODE: 'stateful', JSON: '1' }, { peer: 'stateful', sessions: true }),
  'sdk1-stateless': peer('sdk1.mjs', '@modelcontextprotocol/sdk 1.32 stateless on express, SSE', 'plain', { MODE: 'stateless' }, { peer: 'stateless' }),
  'mcp-nest': peer('mcp-nest.mjs', '@rekog/mcp-nest 2.0.5 stateful, JSON', 'legacy', { MODE: 'stateful', JSON: '1' }, { peer: 'stateful', sessions: true }),
  'mcp-nest-stateless': peer('mcp-nest.mjs', '@rekog/mcp-nest 2.0.5 stateless, JSON', 'plain', { MODE: 'stateless' }, { peer: 'stateless' }),
  // fastmcp waits about 1 s inside every initialize (16 sessions/s on 16 connections): smaller batches.
  fastmcp: peer('fastmcp.mjs', 'fastmcp 4.20 httpStream stateful, JSON', 'legacy', { MODE: 'stateful', JSON: '1' }, { peer: 'stateful', sessions: true, sessionBatch: 160 }),
  'fastmcp-stateless': peer('fastmcp.mjs', 'fastmcp 4.20 httpStream stateless, SSE', 'plain', { MODE: 'stateless' }, { peer: 'stateless' }),
  'portico-legacy': { ...portico('Portico legacy sessions (auth + audit + rate limits)', 'legacy'), sessions: true },
  'portico-modern': portico('Portico modern 2026-07-28 (auth + audit + rate limits)', 'modern'),
  'portico-legacy-200': portico('Portico legacy, 200 more tools registered', 'legacy', { BENCH_EXTRA_TOOLS: '200' }),
  'portico-modern-200': portico('Portico modern, 200 more tools registered', 'modern', { BENCH_EXTRA_TOOLS: '200' }),
  'portico-legacy-redis': portico('Portico legacy, Redis stores (REDIS_URL)', 'legacy', {}, { redis: true }),
  'portico-modern-redis': portico('Portico modern, Redis stores (REDIS_URL)', 'modern', {}, { redis: true }),
};

export const tempDir = (name) => mkdtempSync(join(tmpdir(), `portico-bench-${name}-`));
