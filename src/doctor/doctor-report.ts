/**
 * pass: fine. fail: broken (fails the run when the check is required).
 * warn: works, but something will bite (never fails the run). skip: not applicable or not asked for.
 */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** One line of `portico doctor`'s report. */
export interface CheckResult {
  /** Stable id, e.g. `no-redirect`: scripts and tests key on it. */
  id: string;
  /** What is checked, in a few words. */
  title: string;
  status: CheckStatus;
  /** A failing required check makes the exit code 1. */
  required: boolean;
  /** What was seen. */
  detail: string;
  /** How to fix it (fail and warn). */
  hint?: string;
}

export interface DoctorReport {
  url: string;
  /** True when no required check failed: exit code 0. */
  ok: boolean;
  durationMs: number;
  checks: CheckResult[];
}

export function summarize(url: string, checks: CheckResult[], durationMs: number): DoctorReport {
  return { url, ok: !checks.some((c) => c.required && c.status === 'fail'), durationMs, checks };
}

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' };

/** The human report: one line per check, its fix hint under failures and warnings, and a count. */
export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines = [`portico doctor ${report.url}`, ''];
  for (const c of report.checks) {
    const optional = c.status === 'fail' && !c.required ? ' (optional)' : '';
    lines.push(`${LABEL[c.status]}  ${c.id.padEnd(width)}  ${c.detail}${optional}`);
    if (c.hint && (c.status === 'fail' || c.status === 'warn')) lines.push(`${' '.repeat(width + 8)}fix: ${c.hint}`);
  }
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  lines.push(
    '',
    `${report.ok ? 'OK' : 'NOT OK'}: ${count('pass')} pass, ${count('fail')} fail, ${count('warn')} warn, ${count('skip')} skipped ` +
      `(${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  return `${lines.join('\n')}\n`;
}
