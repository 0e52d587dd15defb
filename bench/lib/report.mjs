// The run's verdicts (issue 11's targets, each a figure of this run against a limit) and its
// markdown report. Throughput and cost take each server's best round, memory the mean, latency
// and start-up the worst; a target whose inputs are missing is "not measured".
import { SERVERS } from './servers.mjs';

const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
const round = (x, digits = 0) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const fmt = (x, digits = 0) => (x === null || x === undefined ? '–' : round(x, digits).toLocaleString('en-US', { maximumFractionDigits: digits }));

/**
 * One figure of one server's tools/call runs, best round: the lowest CPU per call, the highest
 * rps. Other work on the machine only ever adds cost, so the least disturbed round is the
 * closest to the server's own; every server is taken the same way, and every round is shown.
 */
function callFigure(results, key, field) {
  const xs = results.calls.filter((r) => r.key === key && r[field] !== null && r[field] !== undefined).map((r) => r[field]);
  if (!xs.length) return null;
  return field === 'rps' ? Math.max(...xs) : Math.min(...xs);
}

function verdict(name, value, limit, op, detail, digits = 2) {
  const met = value === null ? null : op === '<=' ? value <= limit : value >= limit;
  return { name, value: round(value, digits), limit, op, met, detail };
}

/** Every target of issue 11, computed from this run only. */
export function targets(results) {
  const cpu = (key) => callFigure(results, key, 'server_cpu_us_per_call');
  const rps = (key) => callFigure(results, key, 'rps');
  const ratio = (a, b) => (a === null || b === null || !b ? null : a / b);
  const out = [];

  const peers = Object.keys(SERVERS).filter((k) => SERVERS[k].peer === 'stateful' && cpu(k) !== null);
  const best = peers.reduce((b, k) => (b === null || cpu(k) < cpu(b) ? k : b), null);
  out.push(
    verdict(
      'Legacy stateful tools/call CPU per call, Portico (auth + audit + rate limits) / best stateful peer',
      ratio(cpu('portico-legacy'), best && cpu(best)),
      0.9,
      '<=',
      `${fmt(cpu('portico-legacy'))} µs vs ${best ?? '–'} ${fmt(best && cpu(best))} µs`,
    ),
  );
  out.push(
    verdict('Modern tools/call CPU per call / Portico legacy', ratio(cpu('portico-modern'), cpu('portico-legacy')), 1.0, '<=', `${fmt(cpu('portico-modern'))} µs vs ${fmt(cpu('portico-legacy'))} µs`),
  );
  for (const era of ['legacy', 'modern']) {
    out.push(
      verdict(`200 more tools / base tool set, ${era}, CPU per call`, ratio(cpu(`portico-${era}-200`), cpu(`portico-${era}`)), 1.1, '<=', `${fmt(cpu(`portico-${era}-200`))} µs vs ${fmt(cpu(`portico-${era}`))} µs`),
    );
  }

  const sess = (key, pick) => mean(results.sessions.filter((r) => r.key === key).map(pick).filter((x) => x !== null && x !== undefined));
  const initRate = (key) => {
    const xs = results.sessions.filter((r) => r.key === key).map((r) => r.a.sessions_per_s);
    return xs.length ? Math.max(...xs) : null; // best round, as for tools/call
  };
  out.push(
    verdict('Sessions opened per second (initialize + initialized), Portico / raw', ratio(initRate('portico-legacy'), initRate('raw')), 0.5, '>=', `${fmt(initRate('portico-legacy'))}/s vs ${fmt(initRate('raw'))}/s`),
  );
  out.push(verdict('Marginal RSS per idle legacy session, Portico (KB)', sess('portico-legacy', (r) => r.kb_per_session_marginal), 20, '<=', 'second batch of sessions on the same process', 1));

  for (const era of ['legacy', 'modern']) {
    const p99s = results.calls.filter((r) => r.key === `portico-${era}`).map((r) => r.p99_ms);
    out.push(verdict(`p99 latency at 16 connections, Portico ${era} (ms, worst round)`, p99s.length ? Math.max(...p99s) : null, 20, '<=', `rounds: ${p99s.map((p) => fmt(p, 1)).join(' / ') || '–'}`, 1));
  }
  const all = [...results.calls, ...results.sessions, ...(results.audit ?? []), ...results.sustained];
  const errors = all.reduce((s, r) => s + r.errors, 0);
  out.push(verdict('Responses that failed verification (all servers, all scenarios)', all.length ? errors : null, 0, '<=', `${results.failures.length} server start/run failure(s)`));

  for (const s of results.sustained) {
    const growth = s.rss_fitted_growth_mb;
    const share = growth === null || !s.rss_start_mb ? null : (growth / s.rss_start_mb) * 100;
    out.push(
      verdict(
        `RSS growth over the sustained run at a 128 MB heap, ${s.key} (% of RSS, fitted after warm-up)`,
        share,
        5,
        '<=',
        `${fmt(s.rss_start_mb, 1)} → ${fmt(s.rss_end_mb, 1)} MB, slope ${fmt(s.rss_slope_mb_per_min, 2)} MB/min, ${fmt(s.rps)} rps for ${fmt(s.seconds)} s`,
        1,
      ),
    );
  }

  const phase = (key, on, field) => mean((results.audit ?? []).filter((r) => r.key === key && r.phase === on).map((r) => r[field]));
  for (const era of ['legacy', 'modern']) {
    const key = `portico-${era}`;
    out.push(
      verdict(
        `Audit on / audit off throughput, ${era} (one process, phases alternating)`,
        ratio(phase(key, 'on', 'rps'), phase(key, 'off', 'rps')),
        0.9,
        '>=',
        `${fmt(phase(key, 'on', 'rps'))} vs ${fmt(phase(key, 'off', 'rps'))} rps; CPU per call ${fmt(phase(key, 'on', 'server_cpu_us_per_call'))} vs ${fmt(phase(key, 'off', 'server_cpu_us_per_call'))} µs`,
      ),
    );
  }
  for (const era of ['legacy', 'modern']) {
    out.push(
      verdict(`Redis stores / memory stores throughput, ${era}`, ratio(rps(`portico-${era}-redis`), rps(`portico-${era}`)), 0.85, '>=', `${fmt(rps(`portico-${era}-redis`))} vs ${fmt(rps(`portico-${era}`))} rps; Portico CPU per call ${fmt(cpu(`portico-${era}-redis`))} vs ${fmt(cpu(`portico-${era}`))} µs`),
    );
  }

  const startup = (pred, field) => {
    const xs = results.startup.filter((r) => pred(r.mode)).map((r) => r[field]);
    return xs.length ? Math.max(...xs) : null;
  };
  const embedded = (m) => m.startsWith('embedded');
  const pg = (m) => m === 'postgres';
  out.push(verdict('Embedded (PGlite) idle RSS (MB, worst start)', startup(embedded, 'idle_rss_mb'), 250, '<=', 'first start and restart', 1));
  out.push(verdict('PostgreSQL mode idle RSS (MB, worst start)', startup(pg, 'idle_rss_mb'), 150, '<=', '', 1));
  out.push(verdict('Embedded time to ready (s, worst start, first start included)', startup(embedded, 'ready_ms') && startup(embedded, 'ready_ms') / 1000, 3, '<=', 'spawn to /health/ready 200', 2));
  out.push(verdict('PostgreSQL time to ready (s, worst start)', startup(pg, 'ready_ms') && startup(pg, 'ready_ms') / 1000, 2, '<=', 'spawn to /health/ready 200 (schema migrated beforehand)', 2));
  return out;
}

const perRound = (rows, pick, digits = 0) => rows.map((r) => fmt(pick(r), digits)).join(' / ');

/** The run as markdown: how it ran, the targets, then every figure per server and round. */
export function markdown(meta, results, verdicts) {
  const lines = [];
  const c = meta.config;
  lines.push(`# Benchmark run ${meta.started.slice(0, 16).replace('T', ' ')} UTC${meta.quick ? ' (quick smoke: durations too short for the figures to mean anything)' : ''}`, '');
  lines.push(`- Command: \`${meta.command}\` (\`npm run bench\` builds first), commit ${meta.commit}`);
  const busy = Math.max(meta.load_before[0], meta.load_after[0], meta.load_before[2]) > meta.cores;
  lines.push(
    `- Machine: ${meta.cpu}, Node ${meta.node}; load average before ${meta.load_before.join(' ')}, after ${meta.load_after.join(' ')}${busy ? ` (**busy**: other work was running on its ${meta.cores} cores; absolute figures are low, ratios still compare)` : ''}`,
  );
  lines.push(`- ${c.rounds} round(s), lineup reversed in every other round, a fresh process per measurement; tools/call: ${c.connections} connections, ${c.warmup} s warm-up + ${c.seconds} s measured; sessions: 2 batches of ${c.sessions}; sustained: ${c.sustain} s`);
  lines.push(`- Finished ${meta.finished.slice(11, 19)} UTC. Compare ratios within this run only (the machine is shared; absolute figures drift).`, '');

  lines.push('## Targets (issue 11)', '');
  lines.push('| Target | Measured | Limit | Verdict | Details |', '|---|---|---|---|---|');
  for (const v of verdicts) lines.push(`| ${v.name} | ${v.value ?? '–'} | ${v.op === '<=' ? '≤' : '≥'} ${v.limit} | ${v.met === null ? 'not measured' : v.met ? 'met' : '**NOT met**'} | ${v.detail} |`);
  lines.push('');

  const keys = [...new Set(results.calls.map((r) => r.key))];
  if (keys.length) {
    const rawCpu = callFigure(results, 'raw', 'server_cpu_us_per_call');
    lines.push('## tools/call of an echo tool', '');
    lines.push('Values are "round 1 / round 2"; CPU is the server process\'s user + system time over the measured window divided by the verified calls. The targets take each server\'s best round (lowest CPU per call, highest rps).', '');
    lines.push('| Server | Era | rps | p50 ms | p99 ms | server CPU µs/call | best × raw (best rounds) | server CPU % | client CPU % | RSS after, MB | errors |', '|---|---|---|---|---|---|---|---|---|---|---|');
    for (const key of keys) {
      const rows = results.calls.filter((r) => r.key === key).sort((a, b) => a.round - b.round);
      const cpu = callFigure(results, key, 'server_cpu_us_per_call');
      lines.push(
        `| ${key}: ${rows[0].label} | ${rows[0].era} | ${perRound(rows, (r) => r.rps)} | ${perRound(rows, (r) => r.p50_ms, 2)} | ${perRound(rows, (r) => r.p99_ms, 1)} | ${perRound(rows, (r) => r.server_cpu_us_per_call)} | ${rawCpu ? fmt(cpu / rawCpu, 1) : '–'} | ${perRound(rows, (r) => r.server_cpu_pct)} | ${perRound(rows, (r) => r.client_cpu_pct)} | ${perRound(rows, (r) => r.server_rss_mb, 1)} | ${rows.reduce((s, r) => s + r.errors, 0)} |`,
      );
    }
    lines.push('');
  }

  if (results.sessions.length) {
    lines.push('## Sessions: initialize rate and idle RSS', '');
    lines.push(
      'Each batch opens sessions (`initialize` + `notifications/initialized`) on the connections and leaves them idle; RSS is read after the batch settles. Marginal = (RSS after batch 2 − RSS after batch 1) / sessions of batch 2 (only when both batches completed).',
      '',
    );
    lines.push('| Server | sessions/s, batch 1 | sessions/s, batch 2 | handshake p50 ms | CPU µs/session | RSS fresh → batch 1 → batch 2, MB | KB per idle session, marginal | errors |', '|---|---|---|---|---|---|---|---|');
    for (const key of [...new Set(results.sessions.map((r) => r.key))]) {
      const rows = results.sessions.filter((r) => r.key === key).sort((a, b) => a.round - b.round);
      const mb = (kb) => fmt(kb / 1024, 1);
      lines.push(
        `| ${key} | ${perRound(rows, (r) => r.a.sessions_per_s)}${rows.some((r) => !r.a.complete) ? ` (stopped early: ${rows.map((r) => r.a.sessions).join(' / ')} sessions)` : ''} | ${perRound(rows, (r) => r.b.sessions_per_s)} | ${perRound(rows, (r) => r.a.p50_ms, 1)} | ${perRound(rows, (r) => r.a.server_cpu_us_per_session)} | ${rows.map((r) => `${mb(r.rss_fresh_kb)} → ${mb(r.a.rss_after_kb)} → ${mb(r.b.rss_after_kb)}`).join(' / ')} | ${perRound(rows, (r) => r.kb_per_session_marginal, 1)} | ${rows.reduce((s, r) => s + r.errors, 0)} |`,
      );
    }
    lines.push('');
  }

  if (results.audit?.length) {
    lines.push('## Audit on / off (Portico, one process per era and round)', '');
    lines.push('Phases of half a measurement each, in the order listed; the audit listener is detached and attached again by signal between phases.', '');
    lines.push('| Server | round | phases | rps | CPU µs/call | p99 ms | errors |', '|---|---|---|---|---|---|---|');
    for (const key of [...new Set(results.audit.map((r) => r.key))]) {
      for (const rnd of [...new Set(results.audit.map((r) => r.round))]) {
        const rows = results.audit.filter((r) => r.key === key && r.round === rnd);
        if (!rows.length) continue;
        lines.push(`| ${key} | ${rnd + 1} | ${rows.map((r) => r.phase).join(' / ')} | ${perRound(rows, (r) => r.rps)} | ${perRound(rows, (r) => r.server_cpu_us_per_call)} | ${perRound(rows, (r) => r.p99_ms, 1)} | ${rows.reduce((t, r) => t + r.errors, 0)} |`);
      }
    }
    lines.push('');
  }

  if (results.sustained.length) {
    lines.push('## Sustained load at `--max-old-space-size=128`', '');
    lines.push('| Server | seconds | rps | p99 ms | CPU µs/call | RSS start → end (after warm-up), MB | fitted slope, MB/min | errors |', '|---|---|---|---|---|---|---|---|');
    for (const s of results.sustained) {
      lines.push(`| ${s.key} | ${fmt(s.seconds)} | ${fmt(s.rps)} | ${fmt(s.p99_ms, 1)} | ${fmt(s.server_cpu_us_per_call)} | ${fmt(s.rss_start_mb, 1)} → ${fmt(s.rss_end_mb, 1)} | ${fmt(s.rss_slope_mb_per_min, 2)} | ${s.errors} |`);
    }
    lines.push('');
  }

  if (results.startup.length) {
    lines.push('## Start-up: `node dist/src/main.js`', '');
    lines.push('| Mode | time to ready, ms | idle RSS, MB |', '|---|---|---|');
    for (const mode of [...new Set(results.startup.map((r) => r.mode))]) {
      const rows = results.startup.filter((r) => r.mode === mode);
      lines.push(`| ${mode} | ${perRound(rows, (r) => r.ready_ms)} | ${perRound(rows, (r) => r.idle_rss_mb, 1)} |`);
    }
    lines.push('');
  }

  if (results.failures.length) {
    lines.push('## Failures', '');
    for (const f of results.failures) lines.push(`- ${f.scenario} ${f.key} (round ${f.round + 1}): ${f.error.replaceAll('\n', ' ').slice(0, 500)}`);
    lines.push('');
  }
  const errs = [...results.calls, ...results.sessions, ...(results.audit ?? []), ...results.sustained].filter((r) => r.errors);
  if (errs.length) {
    lines.push('## Verification errors', '');
    for (const r of errs) lines.push(`- ${r.key} (${r.round === undefined ? 'sustained' : `round ${r.round + 1}`}): ${r.errors} — ${JSON.stringify(r.error_kinds ?? {})} ${(r.error_samples ?? []).join(' | ').slice(0, 400)}`);
    lines.push('');
  }
  return lines.join('\n');
}
