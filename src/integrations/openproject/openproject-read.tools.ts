import { Tool, type ToolContext, ToolError, ToolProvider } from '@portico/mcp-core';
import { elements, type Filter, filter, type Form, type HalResource, linkRef } from '@portico/openproject-client';
import { z } from 'zod';
import { dateArg, idArg, OpenProjectToolBase, pageArgs, READ, RO } from './openproject-tool.base';
import {
  comment,
  notification,
  page,
  pageOf,
  project,
  ref,
  relation,
  timeEntry,
  userOut,
  version,
  workPackageDetail,
  workPackageSummary,
} from './openproject.normalize';

const named = z.object({ id: z.number(), name: z.string() });

const searchInput = z.object({
  project: z.string().optional().describe('Project identifier, id or name'),
  text: z.string().optional().describe('Words in the subject (or the id)'),
  status: z.string().default('open').describe('"open" (default), "closed", "all", or a status name or id'),
  type: z.string().optional().describe('Type name or id, e.g. "Bug"'),
  assignee: z.string().optional().describe('User id, name, "me", or "none" for unassigned'),
  author: z.string().optional().describe('User id, name or "me"'),
  responsible: z.string().optional().describe('User id, name or "me"'),
  version: z.string().optional().describe('Version name or id (needs project)'),
  priority: z.string().optional().describe('Priority name or id'),
  parent: idArg.optional().describe('Only children of this work package'),
  dueFrom: dateArg.optional(),
  dueTo: dateArg.optional(),
  updatedFrom: dateArg.optional(),
  updatedTo: dateArg.optional(),
  sortBy: z.enum(['id', 'updatedAt', 'dueDate', 'priority', 'subject']).default('updatedAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
  ...pageArgs,
});

const includeOptions = ['comments', 'relations', 'children', 'watchers', 'attachments', 'timeEntries'] as const;

/** The read-only OpenProject tools. */
@ToolProvider({ namespace: 'openproject' })
export class OpenProjectReadTools extends OpenProjectToolBase {
  @Tool({
    name: 'openproject_whoami',
    title: 'OpenProject: who am I',
    description: 'The OpenProject user your calls act as (service account or your linked account).',
    output: z.object({ id: z.number(), name: z.string(), login: z.string().optional(), identity: z.enum(['service', 'per-user']) }),
    annotations: RO,
    scopes: READ,
  })
  whoami(_input: object, ctx: ToolContext) {
    return this.as(ctx, async (s) => ({ id: s.user.id, name: s.user.name, ...(s.user.login && { login: s.user.login }), identity: s.identity }));
  }

  @Tool({
    name: 'openproject_instance_info',
    title: 'OpenProject: instance',
    description: 'The OpenProject instance: name, version (administrators only), host name, page sizes, attachment size limit, and which writes this Portico allows.',
    output: z.object({
      instanceName: z.string(),
      coreVersion: z.string().nullable(),
      hostName: z.string().nullable(),
      perPageOptions: z.array(z.number()),
      maximumAttachmentFileSize: z.number().nullable(),
      portico: z.object({ write: z.array(z.string()), allowDelete: z.boolean(), projects: z.array(z.string()), identity: z.string() }),
    }),
    annotations: RO,
    scopes: READ,
  })
  instanceInfo(_input: object, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const [root, conf] = await Promise.all([s.client.root(ctx.signal), s.client.configuration(ctx.signal)]);
      return {
        instanceName: root.instanceName,
        coreVersion: root.coreVersion ?? null,
        hostName: conf.hostName ?? null,
        perPageOptions: conf.perPageOptions ?? [],
        maximumAttachmentFileSize: conf.maximumAttachmentFileSize ?? null,
        portico: { write: this.config.write, allowDelete: this.config.allowDelete, projects: this.config.projects, identity: this.config.identity },
      };
    });
  }

  @Tool({
    name: 'openproject_list_projects',
    title: 'OpenProject: projects',
    description: 'Projects you can see (limited to the allowed projects when this Portico has a list), optionally matching a name or identifier.',
    input: z.object({ query: z.string().optional(), active: z.boolean().default(true), ...pageArgs }),
    output: pageOf(project),
    annotations: RO,
    scopes: READ,
  })
  listProjects(input: { query?: string; active: boolean; page: number; pageSize: number }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const filters: Filter[] = [filter('active', '=', [input.active ? 't' : 'f'])];
      if (input.query) filters.push(filter('name_and_identifier', '~', [input.query]));
      filters.push(...(await this.allowListFilter(s, 'id', ctx)));
      const size = this.pageSize(input.pageSize);
      return page(await s.client.projects({ filters, offset: input.page, pageSize: size }, ctx.signal), (p) => this.normalize.project(p), input.page, size);
    });
  }

  @Tool({
    name: 'openproject_get_project',
    title: 'OpenProject: project',
    description: 'One project by identifier, id or name, with its types and versions.',
    input: z.object({ project: z.string() }),
    output: project.extend({ types: z.array(named), versions: z.array(version) }),
    annotations: RO,
    scopes: READ,
  })
  getProject({ project: key }: { project: string }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const p = await this.allowedProject(s, key, ctx);
      const [types, versions] = await Promise.all([s.client.types(p.id, ctx.signal), s.client.versions({ project: p.id }, ctx.signal)]);
      return {
        ...this.normalize.project(p),
        types: elements(types).map((t) => ({ id: t.id, name: t.name })),
        versions: elements(versions).map((v) => this.normalize.version(v)),
      };
    });
  }

  @Tool({
    name: 'openproject_search_work_packages',
    title: 'OpenProject: search work packages',
    description:
      'Finds work packages by project, text, status (open by default; "all" includes closed), type, assignee ("me", "none"), author, version, priority, parent and date ranges. Returns compact rows with lockVersion; use openproject_get_work_package for details.',
    input: searchInput,
    output: pageOf(workPackageSummary),
    annotations: RO,
    scopes: READ,
  })
  search(input: z.infer<typeof searchInput>, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const filters: Filter[] = [];
      let projectId: number | undefined;
      if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        projectId = p.id;
      } else {
        filters.push(...(await this.allowListFilter(s, 'project', ctx)));
      }
      const status = input.status.toLowerCase();
      if (status === 'open') filters.push(filter('status', 'o'));
      else if (status === 'closed') filters.push(filter('status', 'c'));
      else if (status !== 'all') filters.push(filter('status', '=', [(await this.refs.status(s, input.status, ctx.signal)).id]));
      if (input.text) filters.push(filter('subjectOrId', '**', [input.text]));
      if (input.type) filters.push(filter('type', '=', [(await this.refs.type(s, input.type, ctx.signal)).id]));
      if (input.priority) filters.push(filter('priority', '=', [(await this.refs.priority(s, input.priority, ctx.signal)).id]));
      if (input.assignee) {
        if (input.assignee.toLowerCase() === 'none') filters.push(filter('assignee', '!*'));
        else filters.push(filter('assignee', '=', [input.assignee.toLowerCase() === 'me' ? 'me' : (await this.refs.user(s, input.assignee, ctx.signal)).id]));
      }
      for (const key of ['author', 'responsible'] as const) {
        const v = input[key];
        if (v) filters.push(filter(key, '=', [v.toLowerCase() === 'me' ? 'me' : (await this.refs.user(s, v, ctx.signal)).id]));
      }
      if (input.version) {
        if (projectId === undefined) throw new ToolError('version needs project: versions are per project.');
        filters.push(filter('version', '=', [(await this.refs.version(s, input.version, projectId, ctx.signal)).id]));
      }
      if (input.parent) filters.push(filter('parent', '=', [input.parent]));
      if (input.dueFrom || input.dueTo) filters.push(filter('dueDate', '<>d', [input.dueFrom ?? '', input.dueTo ?? '']));
      if (input.updatedFrom || input.updatedTo) filters.push(filter('updatedAt', '<>d', [input.updatedFrom ?? '', input.updatedTo ?? '']));
      const size = this.pageSize(input.pageSize);
      const result = await s.client.workPackages(
        { project: projectId, filters, sortBy: [[input.sortBy, input.order]], offset: input.page, pageSize: size },
        ctx.signal,
      );
      return page(result, (w) => this.normalize.summary(w), input.page, size);
    });
  }

  @Tool({
    name: 'openproject_get_work_package',
    title: 'OpenProject: work package',
    description:
      'One work package with description (markdown), people, dates, lockVersion (needed to update it) and what you may do with it; `include` adds comments, relations, children, watchers, attachments or time entries.',
    input: z.object({ id: idArg, include: z.array(z.enum(includeOptions)).default([]) }),
    output: workPackageDetail,
    annotations: RO,
    scopes: READ,
  })
  getWorkPackage({ id, include }: { id: number; include: (typeof includeOptions)[number][] }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const wp = await this.workPackage(s, id, ctx);
      const out: z.infer<typeof workPackageDetail> = this.normalize.detail(wp);
      const want = new Set(include);
      await Promise.all([
        want.has('comments') && s.client.activities(id, ctx.signal).then((c) => (out.comments = elements(c).map((a) => this.normalize.comment(a)).filter((a) => a.markdown))),
        want.has('relations') && s.client.relations({ filters: [filter('involved', '=', [id])] }, ctx.signal).then((r) => (out.relations = elements(r).map((x) => this.normalize.relation(x)))),
        want.has('watchers') && s.client.watchers(id, ctx.signal).then((w) => (out.watchers = elements(w).map((u) => this.normalize.user(u)))),
        want.has('attachments') && s.client.attachments(id, ctx.signal).then((a) => (out.attachments = elements(a).map((x) => ({ id: x.id, fileName: x.fileName, size: x.fileSize })))),
        want.has('timeEntries') && s.client.timeEntries({ filters: [filter('entity_type', '=', ['WorkPackage']), filter('entity_id', '=', [id])] }, ctx.signal).then((t) => (out.timeEntries = elements(t).map((x) => this.normalize.timeEntry(x)))),
      ]);
      return out;
    });
  }

  @Tool({
    name: 'openproject_list_comments',
    title: 'OpenProject: comments',
    description: 'Comments on a work package, oldest first; includeChanges adds the field-change entries of the history.',
    input: z.object({ workPackageId: idArg, includeChanges: z.boolean().default(false), ...pageArgs }),
    output: pageOf(comment),
    annotations: RO,
    scopes: READ,
  })
  listComments(input: { workPackageId: number; includeChanges: boolean; page: number; pageSize: number }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      await this.workPackage(s, input.workPackageId, ctx);
      const all = elements(await s.client.activities(input.workPackageId, ctx.signal))
        .map((a) => this.normalize.comment(a))
        .filter((a) => input.includeChanges || a.markdown);
      const size = this.pageSize(input.pageSize);
      const items = all.slice((input.page - 1) * size, input.page * size);
      return { items, total: all.length, page: input.page, pageSize: size, nextPage: input.page * size < all.length ? input.page + 1 : null };
    });
  }

  @Tool({
    name: 'openproject_describe_work_package_fields',
    title: 'OpenProject: work package fields',
    description:
      'What can be set on a work package, from OpenProject\'s form (nothing is saved): required fields, allowed statuses (the transitions allowed now when workPackageId is given), types, priorities, assignees, versions and custom fields.',
    input: z.object({ project: z.string().optional(), workPackageId: idArg.optional() }),
    output: z.object({
      fields: z.array(z.object({ key: z.string(), name: z.string(), type: z.string(), required: z.boolean(), writable: z.boolean(), allowedValues: z.array(ref).optional() })),
    }),
    annotations: RO,
    scopes: READ,
  })
  describeFields(input: { project?: string; workPackageId?: number }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      let form: Form;
      if (input.workPackageId) {
        const wp = await this.workPackage(s, input.workPackageId, ctx);
        form = await s.client.workPackageUpdateForm(wp.id, { lockVersion: wp.lockVersion }, ctx.signal);
      } else if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        form = await s.client.workPackageCreateForm(p.id, {}, ctx.signal);
      } else {
        throw new ToolError('Give project (for a new work package) or workPackageId (for an existing one).');
      }
      return { fields: schemaFields(form._embedded.schema) };
    });
  }

  @Tool({ name: 'openproject_list_statuses', title: 'OpenProject: statuses', description: 'Every work package status, with whether it counts as closed.', output: z.object({ items: z.array(named.extend({ isClosed: z.boolean() })) }), annotations: RO, scopes: READ })
  listStatuses(_input: object, ctx: ToolContext) {
    return this.as(ctx, async (s) => ({ items: (await this.refs.statuses(s.client, ctx.signal)).map((x) => ({ id: x.id, name: x.name, isClosed: Boolean(x.isClosed) })) }));
  }

  @Tool({ name: 'openproject_list_types', title: 'OpenProject: types', description: 'Work package types, of a project or of the whole instance.', input: z.object({ project: z.string().optional() }), output: z.object({ items: z.array(named) }), annotations: RO, scopes: READ })
  listTypes({ project: key }: { project?: string }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      if (!key) return { items: (await this.refs.types(s.client, ctx.signal)).map((t) => ({ id: t.id, name: t.name })) };
      const p = await this.allowedProject(s, key, ctx);
      return { items: elements(await s.client.types(p.id, ctx.signal)).map((t) => ({ id: t.id, name: t.name })) };
    });
  }

  @Tool({ name: 'openproject_list_priorities', title: 'OpenProject: priorities', description: 'Work package priorities.', output: z.object({ items: z.array(named) }), annotations: RO, scopes: READ })
  listPriorities(_input: object, ctx: ToolContext) {
    return this.as(ctx, async (s) => ({ items: (await this.refs.priorities(s.client, ctx.signal)).map((p) => ({ id: p.id, name: p.name })) }));
  }

  @Tool({
    name: 'openproject_list_versions',
    title: 'OpenProject: versions',
    description: 'Versions (sprints, releases) of a project or of every visible project, optionally only open/locked/closed ones.',
    input: z.object({ project: z.string().optional(), status: z.enum(['open', 'locked', 'closed']).optional() }),
    output: z.object({ items: z.array(version) }),
    annotations: RO,
    scopes: READ,
  })
  listVersions(input: { project?: string; status?: 'open' | 'locked' | 'closed' }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      let projectId: number | undefined;
      if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        projectId = p.id;
      }
      let items = elements(await s.client.versions({ project: projectId }, ctx.signal)).map((v) => this.normalize.version(v));
      if (input.status) items = items.filter((v) => v.status === input.status);
      if (projectId === undefined && this.policy.restricted) items = items.filter((v) => v.project?.id != null && this.policy.allowedIds.has(v.project.id));
      return { items };
    });
  }

  @Tool({
    name: 'openproject_search_users',
    title: 'OpenProject: find users',
    description: 'Users by (part of) name, login or email; with project, only those who can be assigned there.',
    input: z.object({ query: z.string().optional(), project: z.string().optional() }),
    output: z.object({ items: z.array(userOut) }),
    annotations: RO,
    scopes: READ,
  })
  searchUsers(input: { query?: string; project?: string }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        const q = input.query?.toLowerCase();
        return { items: elements(await s.client.availableAssignees(p.id, ctx.signal)).map((u) => this.normalize.user(u)).filter((u) => !q || `${u.name} ${u.login ?? ''}`.toLowerCase().includes(q)) };
      }
      const filters = [filter('type', '=', ['User'])];
      if (input.query) filters.push(filter('name', '~', [input.query]));
      return { items: elements(await s.client.principals({ filters, pageSize: 50 }, ctx.signal)).map((u) => this.normalize.user(u)) };
    });
  }

  @Tool({
    name: 'openproject_list_memberships',
    title: 'OpenProject: memberships',
    description: 'Who is a member of which project with which roles; filter by project and/or user.',
    input: z.object({ project: z.string().optional(), user: z.string().optional(), ...pageArgs }),
    output: pageOf(z.object({ id: z.number(), project: ref, principal: ref, roles: z.array(z.string()) })),
    annotations: RO,
    scopes: READ,
  })
  listMemberships(input: { project?: string; user?: string; page: number; pageSize: number }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const filters: Filter[] = [];
      if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        filters.push(filter('project', '=', [p.id]));
      } else filters.push(...(await this.allowListFilter(s, 'project', ctx)));
      if (input.user) filters.push(filter('principal', '=', [(await this.refs.user(s, input.user, ctx.signal)).id]));
      const size = this.pageSize(input.pageSize);
      return page(
        await s.client.memberships({ filters, offset: input.page, pageSize: size }, ctx.signal),
        (m) => ({ id: m.id, project: linkRef(m, 'project'), principal: linkRef(m, 'principal'), roles: ((m._links.roles as { title?: string }[]) ?? []).map((r) => r.title ?? '') }),
        input.page,
        size,
      );
    });
  }

  @Tool({
    name: 'openproject_list_time_entries',
    title: 'OpenProject: time entries',
    description: 'Logged time, filtered by project, work package, user ("me") and a date range (YYYY-MM-DD).',
    input: z.object({ project: z.string().optional(), workPackageId: idArg.optional(), user: z.string().optional(), from: dateArg.optional(), to: dateArg.optional(), ...pageArgs }),
    output: pageOf(timeEntry).extend({ totalHours: z.number() }),
    annotations: RO,
    scopes: READ,
  })
  listTimeEntries(input: { project?: string; workPackageId?: number; user?: string; from?: string; to?: string; page: number; pageSize: number }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const filters: Filter[] = [];
      if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        filters.push(filter('project_id', '=', [p.id]));
      } else filters.push(...(await this.allowListFilter(s, 'project_id', ctx)));
      if (input.workPackageId) {
        await this.workPackage(s, input.workPackageId, ctx);
        filters.push(filter('entity_type', '=', ['WorkPackage']), filter('entity_id', '=', [input.workPackageId]));
      }
      if (input.user) filters.push(filter('user_id', '=', [input.user.toLowerCase() === 'me' ? 'me' : (await this.refs.user(s, input.user, ctx.signal)).id]));
      if (input.from || input.to) filters.push(filter('spent_on', '<>d', [input.from ?? '', input.to ?? '']));
      const size = this.pageSize(input.pageSize);
      const result = page(await s.client.timeEntries({ filters, offset: input.page, pageSize: size }, ctx.signal), (t) => this.normalize.timeEntry(t), input.page, size);
      return { ...result, totalHours: Math.round(result.items.reduce((sum, t) => sum + t.hours, 0) * 100) / 100 };
    });
  }

  @Tool({
    name: 'openproject_list_time_entry_activities',
    title: 'OpenProject: time entry activities',
    description: 'The activities time can be logged as (Development, Management...), from OpenProject\'s time entry form.',
    input: z.object({ project: z.string().optional() }),
    output: z.object({ items: z.array(named.extend({ isDefault: z.boolean() })) }),
    annotations: RO,
    scopes: READ,
  })
  listActivities({ project: key }: { project?: string }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const body: Record<string, unknown> = {};
      if (key) {
        const p = await this.allowedProject(s, key, ctx);
        body._links = { project: { href: `/api/v3/projects/${p.id}` } };
      }
      const form = await s.client.timeEntryForm(body, ctx.signal);
      const activity = (form._embedded.schema.activity ?? {}) as { _embedded?: { allowedValues?: (HalResource & { id: number; name: string; default?: boolean })[] } };
      return { items: (activity._embedded?.allowedValues ?? []).map((a) => ({ id: a.id, name: a.name, isDefault: Boolean(a.default) })) };
    });
  }

  @Tool({
    name: 'openproject_list_queries',
    title: 'OpenProject: saved queries',
    description: 'Saved work package queries (views), of a project or all visible ones.',
    input: z.object({ project: z.string().optional() }),
    output: z.object({ items: z.array(z.object({ id: z.number(), name: z.string(), project: ref, public: z.boolean() })) }),
    annotations: RO,
    scopes: READ,
  })
  listQueries({ project: key }: { project?: string }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const filters: Filter[] = [];
      if (key) {
        const p = await this.allowedProject(s, key, ctx);
        filters.push(filter('project', '=', [p.id]));
      }
      let items = elements(await s.client.queries({ filters }, ctx.signal)).map((q) => ({ id: q.id, name: q.name, project: linkRef(q, 'project'), public: Boolean(q.public) }));
      if (this.policy.restricted) items = items.filter((q) => q.project?.id != null && this.policy.allowedIds.has(q.project.id));
      return { items };
    });
  }

  @Tool({
    name: 'openproject_run_query',
    title: 'OpenProject: run a saved query',
    description: 'The work packages a saved query (view) shows, one page at a time.',
    input: z.object({ queryId: idArg, ...pageArgs }),
    output: pageOf(workPackageSummary).extend({ name: z.string() }),
    annotations: RO,
    scopes: READ,
  })
  runQuery(input: { queryId: number; page: number; pageSize: number }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const size = this.pageSize(input.pageSize);
      const q = await s.client.query(input.queryId, { offset: input.page, pageSize: size }, ctx.signal);
      this.policy.assertProject(linkRef(q, 'project') ?? (this.policy.restricted ? { id: null, name: 'all projects' } : null), ctx);
      const results = q._embedded?.results as Parameters<typeof page>[0] | undefined;
      if (!results) throw new ToolError(`Query ${input.queryId} returned no results.`);
      return { name: q.name, ...page(results, (w) => this.normalize.summary(w as never), input.page, size) };
    });
  }

  @Tool({
    name: 'openproject_list_relations',
    title: 'OpenProject: relations',
    description: 'Relations of a work package (blocks, follows, relates...), optionally of one type.',
    input: z.object({ workPackageId: idArg, type: z.string().optional() }),
    output: z.object({ items: z.array(relation) }),
    annotations: RO,
    scopes: READ,
  })
  listRelations(input: { workPackageId: number; type?: string }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      await this.workPackage(s, input.workPackageId, ctx);
      const filters = [filter('involved', '=', [input.workPackageId])];
      if (input.type) filters.push(filter('type', '=', [input.type]));
      return { items: elements(await s.client.relations({ filters }, ctx.signal)).map((r) => this.normalize.relation(r)) };
    });
  }

  @Tool({
    name: 'openproject_list_notifications',
    title: 'OpenProject: notifications',
    description: 'Your in-app notifications (unread by default), optionally by reason (mentioned, assigned, commented...) or project.',
    input: z.object({ unreadOnly: z.boolean().default(true), reason: z.string().optional(), project: z.string().optional(), ...pageArgs }),
    output: pageOf(notification),
    annotations: RO,
    scopes: READ,
  })
  listNotifications(input: { unreadOnly: boolean; reason?: string; project?: string; page: number; pageSize: number }, ctx: ToolContext) {
    return this.as(ctx, async (s) => {
      const filters: Filter[] = [];
      if (input.unreadOnly) filters.push(filter('readIAN', '=', ['f']));
      if (input.reason) filters.push(filter('reason', '=', [input.reason]));
      if (input.project) {
        const p = await this.allowedProject(s, input.project, ctx);
        filters.push(filter('project', '=', [p.id]));
      } else filters.push(...(await this.allowListFilter(s, 'project', ctx)));
      const size = this.pageSize(input.pageSize);
      return page(await s.client.notifications({ filters, offset: input.page, pageSize: size }, ctx.signal), (n) => this.normalize.notification(n), input.page, size);
    });
  }
}

/** Fields of a form schema: every property object with a `type`. */
function schemaFields(schema: Record<string, unknown>) {
  return Object.entries(schema)
    .filter(([key, v]) => !key.startsWith('_') && v && typeof v === 'object' && 'type' in (v as object))
    .map(([key, v]) => {
      const f = v as { type: string; name?: string; required?: boolean; writable?: boolean; _links?: { allowedValues?: { href: string | null; title?: string }[] } };
      const allowed = f._links?.allowedValues;
      return {
        key,
        name: f.name ?? key,
        type: f.type,
        required: Boolean(f.required),
        writable: Boolean(f.writable),
        ...(allowed && { allowedValues: allowed.map((a) => ({ id: a.href ? Number(/(\d+)$/.exec(a.href)?.[1]) : null, name: a.title ?? '' })) }),
      };
    });
}

