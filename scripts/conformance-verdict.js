#!/usr/bin/env node
// Judges one run of the official MCP conformance suite from its results folder, for
// scripts/conformance.sh. Usage:
//
//   node scripts/conformance-verdict.js <results-dir> <list-output-file> <run-label> [waivers-json]
//
// <list-output-file> is what `conformance list --server [--requirements <rev>]` printed for
// this run: the scenarios it must contain. Scenarios listed as extensions (alpha suites:
// "Run and reported, but never scored" → "extension") are reported but not judged: Portico
// does not offer those extensions (io.modelcontextprotocol/tasks, skills).
//
// The run passes when every expected scenario ran exactly once and every check of every
// judged scenario is SUCCESS or INFO: a FAILURE, a WARNING or a SKIPPED check fails it.
// [waivers-json] lists suite defects, [{ scenario, check, status, why }], that are allowed to
// produce that status; a waiver that no check matches any more is stale and fails the run
// too (remove it).
//
// Prints one line per problem and a final `<label>: ...` line; exits 0 (pass) or 1.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [dir, listFile, label, waiversJson] = process.argv.slice(2);
if (!dir || !listFile || !label) {
  console.error('usage: conformance-verdict.js <results-dir> <list-output-file> <run-label> [waivers-json]');
  process.exit(2);
}
const waivers = JSON.parse(waiversJson || '[]');
const PASSING = new Set(['SUCCESS', 'INFO']);

/** { judged: Set, extensions: Set } from `conformance list --server` output (alpha or 0.1.x). */
function expectedScenarios(text) {
  const judged = new Set();
  const extensions = new Set();
  let section = null;
  let group = null;
  for (const line of text.split('\n')) {
    if (/^Server scenarios/.test(line)) section = 'server';
    else if (/^Client scenarios/.test(line)) section = 'client';
    else if (/^Run and reported, but never scored/.test(line)) section = 'unscored';
    else if (/^Required for /.test(line)) section = null;
    const groupHead = /^\s+([a-z-]+) \(\d+\):\s*$/.exec(line);
    if (section === 'unscored' && groupHead) group = groupHead[1];
    const item = /^\s+- (\S+)(?:\s+\[([^\]]*)\])?/.exec(line);
    if (!item) continue;
    const [, name, tag] = item;
    if (section === 'server') (tag === 'extension' ? extensions : judged).add(name);
    if (section === 'unscored' && tag === 'server') (group === 'extension' ? extensions : judged).add(name);
  }
  return { judged, extensions };
}

const { judged, extensions } = expectedScenarios(fs.readFileSync(listFile, 'utf8'));
const problems = [];
if (judged.size === 0) problems.push(`no server scenarios found in ${listFile}`);

const ran = new Map(); // scenario -> checks
for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  const m = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry);
  if (!m) continue;
  const file = path.join(dir, entry, 'checks.json');
  if (!fs.existsSync(file)) {
    problems.push(`${m[1]}: no checks.json`);
    continue;
  }
  if (ran.has(m[1])) problems.push(`${m[1]}: ran more than once`);
  ran.set(m[1], JSON.parse(fs.readFileSync(file, 'utf8')));
}

const used = new Set();
let passed = 0;
let info = 0;
let waived = 0;
let extensionChecks = 0;
let extensionFailing = 0;
for (const scenario of judged) {
  const checks = ran.get(scenario);
  if (!checks) {
    problems.push(`${scenario}: did not run`);
    continue;
  }
  if (checks.length === 0) problems.push(`${scenario}: reported no checks`);
  for (const check of checks) {
    if (PASSING.has(check.status)) {
      if (check.status === 'SUCCESS') passed++;
      else info++;
      continue;
    }
    const waiver = waivers.findIndex((w) => w.scenario === scenario && w.check === check.id && w.status === check.status);
    if (waiver >= 0) {
      used.add(waiver);
      waived++;
      continue;
    }
    problems.push(`${scenario}: ${check.id} ${check.status}${check.errorMessage ? `: ${String(check.errorMessage).slice(0, 300)}` : ''}`);
  }
}
for (const [scenario, checks] of ran) {
  if (judged.has(scenario)) continue;
  if (extensions.has(scenario)) {
    extensionChecks += checks.length;
    extensionFailing += checks.filter((c) => !PASSING.has(c.status)).length;
  } else {
    problems.push(`${scenario}: ran but is not in the scenario list (update scripts/conformance-verdict.js?)`);
  }
}
waivers.forEach((w, i) => {
  if (!used.has(i)) problems.push(`stale waiver (the suite defect no longer shows; remove it): ${w.scenario} ${w.check} ${w.status}`);
});

for (const p of problems) console.log(`  ✗ ${p}`);
const failed = problems.length;
const notes = [];
if (waived) notes.push(`${waived} check(s) waived as suite defects`);
if (extensions.size) notes.push(`extensions not judged: ${ran.size - judged.size} scenario(s) ran, ${extensionFailing} of ${extensionChecks} checks not passing`);
console.log(
  `${label}: ${judged.size} scenarios, ${passed} checks passed (+${info} informational), ${failed} problem(s)${notes.length ? ` (${notes.join('; ')})` : ''}`,
);
process.exit(failed === 0 ? 0 : 1);
