import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/process';

// The judge of scripts/npm-audit.sh, on made-up reports in npm audit's JSON shape (v2).
const { judge } = require(join(ROOT, 'scripts', 'npm-audit-check.js')) as {
  judge(report: unknown, exceptions: { advisory: string; package: string; reason: string; expires: string }[], today: string): { status: string; lines: string[] };
};

const advisory = (severity: string, ghsa: string) => ({ source: 1, name: 'left-pad', title: 'Prototype pollution', url: `https://github.com/advisories/${ghsa}`, severity, range: '<1.3.1' });
const report = (...via: object[]) => ({
  vulnerabilities: { 'left-pad': { name: 'left-pad', severity: 'high', via }, app: { name: 'app', severity: 'high', via: ['left-pad'] } },
  metadata: { vulnerabilities: { high: 1 } },
});

describe('npm audit check (scripts/npm-audit.sh)', () => {
  it('fails on a high or critical advisory, passes on moderate ones', () => {
    expect(judge(report(advisory('high', 'GHSA-aaaa-bbbb-cccc')), [], '2026-11-26')).toMatchObject({ status: 'fail' });
    expect(judge(report(advisory('critical', 'GHSA-aaaa-bbbb-cccc')), [], '2026-11-26')).toMatchObject({ status: 'fail' });
    expect(judge(report(advisory('moderate', 'GHSA-aaaa-bbbb-cccc')), [], '2026-11-26')).toMatchObject({ status: 'pass' });
    expect(judge({ vulnerabilities: {}, metadata: { vulnerabilities: {} } }, [], '2026-11-26')).toMatchObject({ status: 'pass' });
  });

  it('accepts an excepted advisory until its expiry, then fails', () => {
    const exceptions = [{ advisory: 'GHSA-aaaa-bbbb-cccc', package: 'left-pad', reason: 'not reachable: only used by the CLI', expires: '2026-12-31' }];
    expect(judge(report(advisory('high', 'GHSA-aaaa-bbbb-cccc')), exceptions, '2026-11-26')).toMatchObject({ status: 'pass' });
    expect(judge(report(advisory('high', 'GHSA-aaaa-bbbb-cccc')), exceptions, '2027-01-01')).toMatchObject({ status: 'fail' });
    // An exception for another advisory does not cover this one.
    expect(judge(report(advisory('high', 'GHSA-zzzz-bbbb-cccc')), exceptions, '2026-11-26')).toMatchObject({ status: 'fail' });
  });

  it('reports a registry without an advisory service as not checked, never as a pass', () => {
    const result = judge({ message: '405 Method Not Allowed - POST …/advisories/bulk', statusCode: 405 }, [], '2026-11-26');
    expect(result.status).toBe('unavailable');
    expect(result.lines.join('\n')).toContain('NOT CHECKED');
  });

  it('the exception file is valid: every entry has a reason and a date', () => {
    const { exceptions } = JSON.parse(readFileSync(join(ROOT, 'security', 'audit-exceptions.json'), 'utf8')) as { exceptions: Record<string, string>[] };
    expect(Array.isArray(exceptions)).toBe(true);
    for (const e of exceptions) expect(e).toEqual({ advisory: expect.stringMatching(/^GHSA-/), package: expect.any(String), reason: expect.stringMatching(/\w{10}/), added: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), expires: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
  });
});
