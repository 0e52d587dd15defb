import { type ToolContext, ToolError } from '@portico/mcp-core';
import { type AppConfig, loadConfig } from '../../config/app-config';
import { OpenProjectAccessPolicy } from './openproject-access.policy';

function policy(env: Record<string, string>): OpenProjectAccessPolicy {
  const config: AppConfig = loadConfig({ OPENPROJECT_URL: 'http://op:8080', OPENPROJECT_API_KEY: 'k'.repeat(40), ...env }, '/srv');
  return new OpenProjectAccessPolicy(config);
}

function context() {
  const details: Record<string, unknown>[] = [];
  return { ctx: { auditDetail: (d: Record<string, unknown>) => details.push(d) } as unknown as ToolContext, details };
}

function refusal(fn: () => void): ToolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('OpenProjectAccessPolicy', () => {
  it('allows enabled write categories and refuses the others, with the reason for the audit', () => {
    const p = policy({ OPENPROJECT_WRITE: 'comments' });
    const { ctx, details } = context();

    expect(() => p.assertWrite('comments', ctx)).not.toThrow();
    const e = refusal(() => p.assertWrite('time', ctx));

    expect(e.code).toBe('openproject.write_disabled');
    expect(e.message).toContain('adding "time" to OPENPROJECT_WRITE');
    expect(details).toEqual([{ refusal: { reason: 'openproject.write_disabled', category: 'time' } }]);
  });

  it('refuses deletes while disabled, even confirmed; once enabled, only confirmed', () => {
    const { ctx } = context();

    expect(refusal(() => policy({}).assertDelete(true, 'work package #1', ctx)).code).toBe('openproject.delete_disabled');
    const enabled = policy({ OPENPROJECT_ALLOW_DELETE: 'true' });
    expect(refusal(() => enabled.assertDelete(undefined, 'work package #1', ctx)).code).toBe('openproject.confirm_required');
    expect(refusal(() => enabled.assertDelete(false, 'work package #1', ctx)).code).toBe('openproject.confirm_required');
    expect(() => enabled.assertDelete(true, 'work package #1', ctx)).not.toThrow();
  });

  it('checks projects against the allow-list by identifier, configured id, or resolved id', () => {
    const p = policy({ OPENPROJECT_PROJECTS: 'zeus,7' });
    const { ctx, details } = context();

    expect(() => p.assertProject({ id: 2, identifier: 'Zeus' }, ctx)).not.toThrow();
    expect(() => p.assertProject({ id: 7, name: 'Seven' }, ctx)).not.toThrow();
    expect(p.unresolved).toEqual(['zeus']);
    expect(refusal(() => p.assertProject({ id: 2, name: 'Zeus' }, ctx)).code).toBe('openproject.project_not_allowed');
    p.resolve('zeus', 2);
    expect(p.unresolved).toEqual([]);
    expect(() => p.assertProject({ id: 2, name: 'Zeus' }, ctx)).not.toThrow();
    expect(refusal(() => p.assertProject({ id: 1, identifier: 'apollo', name: 'Apollo' }, ctx)).message).toContain('Project apollo is not among');
    expect(details.at(-1)).toEqual({ refusal: { reason: 'openproject.project_not_allowed', project: 'apollo' } });
  });

  it('lets every project through without an allow-list', () => {
    const { ctx } = context();

    expect(policy({}).restricted).toBe(false);
    expect(() => policy({}).assertProject({ id: 1, identifier: 'apollo' }, ctx)).not.toThrow();
  });
});
