import { Tool, type ToolContext, ToolError, ToolProvider } from '@portico/mcp-core';
import { filter, hoursToDuration, OpenProjectError, OpenProjectErrorCode, type Project } from '@portico/openproject-client';
import { z } from 'zod';
import type { OpenProjectSession } from './openproject-identity.service';
import { dateArg, DELETE, idArg, OpenProjectToolBase, WRITE } from './openproject-tool.base';
import { relation, timeEntry, version, workPackageDetail } from './openproject.normalize';

const W = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;
const WI = { ...W, idempotentHint: true } as const;
const D = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false } as const;
const RELATION_TYPES = ['relates', 'duplicates', 'duplicated', 'blocks', 'blocked', 'precedes', 'follows', 'includes', 'partof', 'requires', 'required'] as const;

const fields = {
  subject: z.string().min(1).max(255).optional(),
  description: z.string().optional().describe('Markdown'),
  type: z.string().optional().describe('Type name or id'),
  status: z.string().optional().describe('Status name or id'),
  priority: z.string().optional().describe('Priority name or id'),
  assignee: z.string().optional().describe('User id, name, "me", or "none" to unassign'),
  responsible: z.string().optional().describe('User id, name, "me", or "none"'),
  version: z.string().optional().describe('Version name or id, or "none"'),
  parent: z.union([idArg, z.literal('none')]).optional().describe('Parent work package id, or "none"'),
  startDate: dateArg.nullable().optional(),
  dueDate: dateArg.nullable().optional(),
  estimatedHours: z.number().min(0).nullable().optional(),
  notify: z.boolean().default(true).describe('Send OpenProject notifications to watchers'),
  dryRun: z.boolean().default(false).describe('Validate with OpenProject\'s form without saving'),
};
const createInput = z.object({ project: z.string(), ...fields, subject: z.string().min(1).max(255) });
const updateInput = z.object({
  id: idArg,
  lockVersion: z.number().int().min(0).optional().describe('From openproject_get_work_package; without it the current one is used'),
  ...fields,
});
const writeResult = z.object({ saved: z.boolean(), workPackage: workPackageDetail.nullable(), validationErrors: z.record(z.string(), z.string()).optional() });

/** The OpenProject tools that change something; each belongs to a write category of OPENPROJECT_WRITE. */
@ToolProvider({ namespace: 'openproject' })
export class OpenProjectWriteTools extends OpenProjectToolBase {
  @Tool({
    name: 'openproject_create_work_package',
    title: 'OpenProject: create work package',
    description: 'Creates a work package in a project, validated through OpenProject\'s form first (dryRun: validate only). Names are resolved (type "Bug", assignee "me").',
    input: createInput,
    output: writeResult,
    annotations: W,
    scopes: WRITE,
  })
  create(input: z.infer<typeof createInput>, ctx: ToolContext) {
    this.policy.assertWrite('workPackages', ctx);
    return this.as(ctx, async (s) => {
      const p = await this.allowedProject(s, input.project, ctx);
      const body = await this.body(s, input, p, ctx);
      const form = await s.client.workPackageCreateForm(p.id, body, ctx.signal);
      const errors = validationErrors(form._embedded.validationErrors);
      if (Object.keys(errors).length || input.dryRun) return { saved: false, workPackage: null, ...(Object.keys(errors).length && { validationErrors: errors }) };
      const wp = await s.client.createWorkPackage(p.id, body, input.notify, ctx.signal);
      ctx.auditDetail({ workPackage: { id: wp.id, project: p.identifier } });
      return { saved: true, workPackage: this.normalize.detail(wp) };
    });
  }

  @Tool({
    name: 'openproject_update_work_package',
    title: 'OpenProject: update work package',
    description:
      'Changes fields of a work package. Pass the lockVersion you read: if someone changed it since, nothing is saved and you are told to re-read. Status changes follow the workflow. dryRun validates only.',
    input: updateInput,
    output: writeResult,
    annotations: WI,
    scopes: WRITE,
  })
  update(input: z.infer<typeof updateInput>, ctx: ToolContext) {
    this.policy.assertWrite('workPackages', ctx);
    return this.as(ctx, async (s) => {
      const current = await this.workPackage(s, input.id, ctx);
      const projectId = this.projectOf(current)!.id!;
      const lockVersion = input.lockVersion ?? current.lockVersion;
      const body = { lockVersion, ...(await this.body(s, input, { id: projectId } as Project, ctx)) };
      ctx.auditDetail({ workPackage: { id: input.id, lockVersion } });
      if (input.dryRun) {
        const form = await s.client.workPackageUpdateForm(input.id, body, ctx.signal);
        const errors = validationErrors(form._embedded.validationErrors);
        return { saved: false, workPackage: null, ...(Object.keys(errors).length && { validationErrors: errors }) };
      }
      try {
        const wp = await s.client.updateWorkPackage(input.id, body, input.notify, ctx.signal);
        return { saved: true, workPackage: this.normalize.detail(wp) };
      } catch (e) {
        if (e instanceof OpenProjectError && e.code === OpenProjectErrorCode.Conflict) {
          const fresh = await s.client.workPackage(input.id, ctx.signal).catch(() => undefined);
          throw new ToolError(
            `Not saved: work package #${input.id} was changed by someone else since lockVersion ${lockVersion}` +
              (fresh ? ` (it is now at lockVersion ${fresh.lockVersion}, last updated ${fresh.updatedAt ?? 'recently'}). ` : '. ') +
              'Read it again with openproject_get_work_package, check the other change, and apply yours with the new lockVersion.',
            { code: 'openproject.conflict', cause: e },
          );
        }
        throw e;
      }
    });
  }

  @Tool({
    name: 'openproject_add_comment',
    title: 'OpenProject: comment',
    description: 'Adds a markdown comment to a work package (internal: only for users with the internal-comments permission).',
    input: z.object({ workPackageId: idArg, comment: z.string().min(1), internal: z.boolean().default(false), notify: z.boolean().default(true) }),
    output: z.object({ saved: z.boolean(), workPackageId: z.number(), url: z.string() }),
    annotations: W,
    scopes: WRITE,
  })
  addComment(input: { workPackageId: number; comment: string; internal: boolean; notify: boolean }, ctx: ToolContext) {
    this.policy.assertWrite('comments', ctx);
    return this.as(ctx, async (s) => {
      await this.workPackage(s, input.workPackageId, ctx);
      await s.client.addComment(input.workPackageId, input.comment, { internal: input.internal || undefined, notify: input.notify }, ctx.signal);
      return { saved: true, workPackageId: input.workPackageId, url: this.normalize.workPackageUrl(input.workPackageId) };
    });
  }

  @Tool({
    name: 'openproject_create_relation',
    title: 'OpenProject: relate work packages',
    description: 'Relates two work packages: `from` blocks/precedes/relates to/duplicates/includes/requires `to` (or the reverse types). lag: working days between (precedes/follows).',
    input: z.object({ from: idArg, to: idArg, type: z.enum(RELATION_TYPES), lag: z.number().int().min(0).optional(), description: z.string().optional() }),
    output: relation,
    annotations: W,
    scopes: WRITE,
  })
  createRelation(input: { from: number; to: number; type: string; lag?: number; description?: string }, ctx: ToolContext) {
    this.policy.assertWrite('relations', ctx);
    return this.as(ctx, async (s) => {
      await this.workPackage(s, input.from, ctx);
      await this.workPackage(s, input.to, ctx);
      const r = await s.client.createRelation(input.from, { type: input.type, lag: input.lag, description: input.description, _links: { to: { href: `/api/v3/work_packages/${input.to}` } } }, ctx.signal);
      return this.normalize.relation(r);
    });
  }

  @Tool({
    name: 'openproject_log_time',
    title: 'OpenProject: log time',
    description: 'Logs time on a work package (or a project): hours as a decimal (1.5 = 1 h 30 min), spentOn defaults to today, activity by name or id.',
    input: z.object({
      workPackageId: idArg.optional(),
      project: z.string().optional(),
      hours: z.number().positive().max(24),
      spentOn: dateArg.optional(),
      activity: z.string().optional(),
      comment: z.string().optional(),
      user: z.string().optional().describe('Log for another user (needs the permission); default you'),
    }),
    output: timeEntry,
    annotations: W,
    scopes: WRITE,
  })
  logTime(input: { workPackageId?: number; project?: string; hours: number; spentOn?: string; activity?: string; comment?: string; user?: string }, ctx: ToolContext) {
    this.policy.assertWrite('time', ctx);
    return this.as(ctx, async (s) => {
      const links: Record<string, { href: string }> = {};
      if (input.workPackageId) {
        await this.workPackage(s, input.workPackageId, ctx);
        links.entity = { href: `/api/v3/work_packages/${input.workPackageId}` };
      } else if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        links.project = { href: `/api/v3/projects/${p.id}` };
      } else {
        throw new ToolError('Give workPackageId or project.');
      }
      if (input.activity) links.activity = { href: `/api/v3/time_entries/activities/${await this.activityId(s, input.activity, ctx)}` };
      if (input.user) links.user = { href: `/api/v3/users/${(await this.refs.user(s, input.user, ctx.signal)).id}` };
      const t = await s.client.createTimeEntry(
        { hours: hoursToDuration(input.hours), spentOn: input.spentOn ?? new Date().toISOString().slice(0, 10), ...(input.comment && { comment: { raw: input.comment } }), _links: links },
        ctx.signal,
      );
      ctx.auditDetail({ timeEntry: { id: t.id } });
      return this.normalize.timeEntry(t);
    });
  }

  @Tool({
    name: 'openproject_update_time_entry',
    title: 'OpenProject: update time entry',
    description: 'Changes hours, date, activity or comment of a time entry.',
    input: z.object({ id: idArg, hours: z.number().positive().max(24).optional(), spentOn: dateArg.optional(), activity: z.string().optional(), comment: z.string().optional() }),
    output: timeEntry,
    annotations: WI,
    scopes: WRITE,
  })
  updateTimeEntry(input: { id: number; hours?: number; spentOn?: string; activity?: string; comment?: string }, ctx: ToolContext) {
    this.policy.assertWrite('time', ctx);
    return this.as(ctx, async (s) => {
      const current = this.normalize.timeEntry(await s.client.timeEntry(input.id, ctx.signal));
      this.policy.assertProject(current.project, ctx);
      const body: Record<string, unknown> = {};
      if (input.hours !== undefined) body.hours = hoursToDuration(input.hours);
      if (input.spentOn) body.spentOn = input.spentOn;
      if (input.comment !== undefined) body.comment = { raw: input.comment };
      if (input.activity) body._links = { activity: { href: `/api/v3/time_entries/activities/${await this.activityId(s, input.activity, ctx)}` } };
      return this.normalize.timeEntry(await s.client.updateTimeEntry(input.id, body, ctx.signal));
    });
  }

  @Tool({
    name: 'openproject_watch_work_package',
    title: 'OpenProject: watch',
    description: 'Starts (watch: true) or stops (watch: false) watching a work package, for you or another user.',
    input: z.object({ workPackageId: idArg, watch: z.boolean().default(true), user: z.string().default('me') }),
    output: z.object({ workPackageId: z.number(), userId: z.number(), watching: z.boolean() }),
    annotations: WI,
    scopes: WRITE,
  })
  watch(input: { workPackageId: number; watch: boolean; user: string }, ctx: ToolContext) {
    this.policy.assertWrite('workPackages', ctx);
    return this.as(ctx, async (s) => {
      await this.workPackage(s, input.workPackageId, ctx);
      const user = await this.refs.user(s, input.user, ctx.signal);
      if (input.watch) await s.client.addWatcher(input.workPackageId, user.id, ctx.signal);
      else await s.client.removeWatcher(input.workPackageId, user.id, ctx.signal);
      return { workPackageId: input.workPackageId, userId: user.id, watching: input.watch };
    });
  }

  @Tool({
    name: 'openproject_mark_notifications_read',
    title: 'OpenProject: mark notifications read',
    description: 'Marks your notifications read: the given ids, or all: true for every unread one.',
    input: z.object({ ids: z.array(idArg).optional(), all: z.boolean().default(false) }),
    output: z.object({ marked: z.union([z.number(), z.literal('all')]) }),
    annotations: WI,
    scopes: WRITE,
  })
  markRead(input: { ids?: number[]; all: boolean }, ctx: ToolContext) {
    this.policy.assertWrite('notifications', ctx);
    return this.as(ctx, async (s) => {
      if (input.all) {
        await s.client.markNotificationsRead([filter('readIAN', '=', ['f'])], ctx.signal);
        return { marked: 'all' as const };
      }
      if (!input.ids?.length) throw new ToolError('Give ids, or all: true.');
      for (const id of input.ids) await s.client.markNotificationRead(id, ctx.signal);
      return { marked: input.ids.length };
    });
  }

  @Tool({
    name: 'openproject_create_version',
    title: 'OpenProject: create version',
    description: 'Creates a version (sprint, release) in a project.',
    input: z.object({ project: z.string(), name: z.string().min(1), startDate: dateArg.optional(), endDate: dateArg.optional(), status: z.enum(['open', 'locked', 'closed']).default('open'), sharing: z.enum(['none', 'descendants', 'hierarchy', 'tree', 'system']).default('none'), description: z.string().optional() }),
    output: version,
    annotations: W,
    scopes: WRITE,
  })
  createVersion(input: { project: string; name: string; startDate?: string; endDate?: string; status: string; sharing: string; description?: string }, ctx: ToolContext) {
    this.policy.assertWrite('versions', ctx);
    return this.as(ctx, async (s) => {
      const p = await this.allowedProject(s, input.project, ctx);
      const v = await s.client.createVersion(
        { name: input.name, startDate: input.startDate, endDate: input.endDate, status: input.status, sharing: input.sharing, ...(input.description && { description: { raw: input.description } }), _links: { definingProject: { href: `/api/v3/projects/${p.id}` } } },
        ctx.signal,
      );
      return this.normalize.version(v);
    });
  }

  // --- destructive -----------------------------------------------------------------------

  @Tool({
    name: 'openproject_delete_relation',
    title: 'OpenProject: delete relation',
    description: 'Deletes a relation. Off unless the deployment enables destructive tools; needs confirm: true.',
    input: z.object({ relationId: idArg, confirm: z.boolean().optional() }),
    output: z.object({ deleted: z.boolean(), relationId: z.number() }),
    annotations: D,
    scopes: DELETE,
  })
  deleteRelation(input: { relationId: number; confirm?: boolean }, ctx: ToolContext) {
    this.policy.assertDelete(input.confirm, `relation ${input.relationId}`, ctx);
    return this.as(ctx, async (s) => {
      const r = this.normalize.relation(await s.client.relation(input.relationId, ctx.signal));
      if (r.from?.id) await this.workPackage(s, r.from.id, ctx);
      await s.client.deleteRelation(input.relationId, ctx.signal);
      return { deleted: true, relationId: input.relationId };
    });
  }

  @Tool({
    name: 'openproject_delete_time_entry',
    title: 'OpenProject: delete time entry',
    description: 'Deletes a time entry. Off unless the deployment enables destructive tools; needs confirm: true.',
    input: z.object({ id: idArg, confirm: z.boolean().optional() }),
    output: z.object({ deleted: z.boolean(), id: z.number() }),
    annotations: D,
    scopes: DELETE,
  })
  deleteTimeEntry(input: { id: number; confirm?: boolean }, ctx: ToolContext) {
    this.policy.assertDelete(input.confirm, `time entry ${input.id}`, ctx);
    return this.as(ctx, async (s) => {
      this.policy.assertProject(this.normalize.timeEntry(await s.client.timeEntry(input.id, ctx.signal)).project, ctx);
      await s.client.deleteTimeEntry(input.id, ctx.signal);
      return { deleted: true, id: input.id };
    });
  }

  @Tool({
    name: 'openproject_delete_work_package',
    title: 'OpenProject: delete work package',
    description: 'Deletes a work package with its history and time entries, irreversibly. Off unless the deployment enables destructive tools; needs confirm: true.',
    input: z.object({ id: idArg, confirm: z.boolean().optional() }),
    output: z.object({ deleted: z.boolean(), id: z.number() }),
    annotations: D,
    scopes: DELETE,
  })
  deleteWorkPackage(input: { id: number; confirm?: boolean }, ctx: ToolContext) {
    this.policy.assertDelete(input.confirm, `work package #${input.id}`, ctx);
    return this.as(ctx, async (s) => {
      await this.workPackage(s, input.id, ctx);
      await s.client.deleteWorkPackage(input.id, ctx.signal);
      return { deleted: true, id: input.id };
    });
  }

  // --- helpers -----------------------------------------------------------------------------

  /** A WorkPackageWriteModel body from tool arguments, names resolved. */
  private async body(s: OpenProjectSession, input: Partial<z.infer<typeof updateInput>>, project: Project, ctx: ToolContext) {
    const body: Record<string, unknown> = {};
    const links: Record<string, { href: string | null }> = {};
    if (input.subject !== undefined) body.subject = input.subject;
    if (input.description !== undefined) body.description = { raw: input.description };
    if (input.startDate !== undefined) body.startDate = input.startDate;
    if (input.dueDate !== undefined) body.dueDate = input.dueDate;
    if (input.estimatedHours !== undefined) body.estimatedTime = input.estimatedHours === null ? null : hoursToDuration(input.estimatedHours);
    if (input.type) links.type = { href: `/api/v3/types/${(await this.refs.type(s, input.type, ctx.signal)).id}` };
    if (input.status) links.status = { href: `/api/v3/statuses/${(await this.refs.status(s, input.status, ctx.signal)).id}` };
    if (input.priority) links.priority = { href: `/api/v3/priorities/${(await this.refs.priority(s, input.priority, ctx.signal)).id}` };
    for (const key of ['assignee', 'responsible'] as const) {
      const v = input[key];
      if (v) links[key] = { href: v.toLowerCase() === 'none' ? null : `/api/v3/users/${(await this.refs.user(s, v, ctx.signal)).id}` };
    }
    if (input.version) links.version = { href: input.version.toLowerCase() === 'none' ? null : `/api/v3/versions/${(await this.refs.version(s, input.version, project.id, ctx.signal)).id}` };
    if (input.parent !== undefined) links.parent = { href: input.parent === 'none' ? null : `/api/v3/work_packages/${input.parent}` };
    if (Object.keys(links).length) body._links = links;
    return body;
  }

  private async activityId(s: OpenProjectSession, value: string, ctx: ToolContext): Promise<number> {
    if (/^\d+$/.test(value)) return Number(value);
    const form = await s.client.timeEntryForm({}, ctx.signal);
    const allowed = ((form._embedded.schema.activity as { _embedded?: { allowedValues?: { id: number; name: string }[] } })?._embedded?.allowedValues ?? []);
    const hit = allowed.find((a) => a.name.toLowerCase() === value.toLowerCase());
    if (!hit) throw new ToolError(`Unknown activity "${value}". Known: ${allowed.map((a) => a.name).join(', ')}.`);
    return hit.id;
  }
}

function validationErrors(errors: Record<string, { message?: string }> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(errors ?? {}).map(([k, v]) => [k, v.message ?? 'invalid']));
}
