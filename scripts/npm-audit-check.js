#!/usr/bin/env node
// Judges `npm audit --omit=dev --json` (on stdin) against security/audit-exceptions.json:
// exit 0 when no high or critical advisory remains unexcepted, 1 when one does or an exception
// has expired, 2 when the registry gave no audit (printed as NOT CHECKED, never as a pass).
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const SEVERE = new Set(['high', 'critical']);

/** The advisories of a report: { id, url, title, severity, package }, one per advisory. */
function advisories(report) {
  const out = new Map();
  for (const [name, vuln] of Object.entries(report.vulnerabilities ?? {})) {
    for (const via of vuln.via ?? []) {
      if (typeof via !== 'object') continue;
      const id = /GHSA-[\w-]+/.exec(via.url ?? '')?.[0] ?? String(via.source);
      out.set(id, { id, url: via.url, title: via.title, severity: via.severity, package: via.name ?? name });
    }
  }
  return [...out.values()];
}

/** { status: 'pass' | 'fail' | 'unavailable', lines } for a report, exceptions and today (YYYY-MM-DD). */
function judge(report, exceptions, today) {
  if (!report || report.error || !report.vulnerabilities) {
    const why = report?.error?.summary || report?.message || 'no audit report';
    return { status: 'unavailable', lines: [`npm audit: NOT CHECKED - the registry gave no audit report (${why.split('\n')[0]})`] };
  }
  const lines = [];
  const expired = exceptions.filter((e) => !(e.expires >= today));
  for (const e of expired) lines.push(`expired exception: ${e.advisory} (${e.package}), expired ${e.expires}: ${e.reason}`);
  const live = exceptions.filter((e) => e.expires >= today);
  const severe = advisories(report).filter((a) => SEVERE.has(a.severity));
  const open = severe.filter((a) => !live.some((e) => e.advisory === a.id || e.advisory === a.url));
  for (const a of severe) {
    const ex = live.find((e) => e.advisory === a.id || e.advisory === a.url);
    lines.push(`${ex ? 'excepted until ' + ex.expires : 'OPEN'}: ${a.severity} ${a.id} in ${a.package}: ${a.title}`);
  }
  const counts = report.metadata?.vulnerabilities ?? {};
  lines.push(`npm audit --omit=dev: ${JSON.stringify(counts)}; ${open.length} high/critical not excepted, ${expired.length} expired exceptions`);
  return { status: open.length || expired.length ? 'fail' : 'pass', lines };
}

module.exports = { advisories, judge };

if (require.main === module) {
  const input = readFileSync(0, 'utf8');
  let report;
  try {
    report = JSON.parse(input);
  } catch {
    report = { message: input.slice(0, 200) || 'empty output' };
  }
  const file = process.argv[2] ?? join(__dirname, '..', 'security', 'audit-exceptions.json');
  const { exceptions } = JSON.parse(readFileSync(file, 'utf8'));
  const result = judge(report, exceptions, new Date().toISOString().slice(0, 10));
  for (const line of result.lines) console.error(line);
  process.exit({ pass: 0, fail: 1, unavailable: 2 }[result.status]);
}
