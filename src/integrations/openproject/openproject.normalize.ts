import {
  type Activity,
  canDo,
  durationToHours,
  elements,
  type HalCollection,
  type HalResource,
  idFromHref,
  link,
  linkRef,
  links,
  type Notification,
  type Project,
  type Relation,
  type TimeEntry,
  type User,
  type Version,
  type WorkPackage,
} from '@portico/openproject-client';
import { z } from 'zod';

/**
 * Compact, model-friendly shapes of OpenProject resources: ids, names,
 * markdown and web links, never raw HAL. One zod schema (the tools'
 * `output`) and one mapper per resource.
 */
export const ref = z.object({ id: z.number().nullable(), name: z.string() }).nullable();
export type Ref = z.infer<typeof ref>;

export const workPackageSummary = z.object({
  id: z.number(),
  displayId: z.string().optional(),
  subject: z.string(),
  type: ref,
  status: ref,
  priority: ref,
  assignee: ref,
  project: ref,
  version: ref,
  dueDate: z.string().nullable(),
  updatedAt: z.string().optional(),
  lockVersion: z.number(),
  url: z.string(),
});

export const comment = z.object({ id: z.number(), author: ref, createdAt: z.string(), markdown: z.string(), internal: z.boolean(), changes: z.array(z.string()).optional() });
export const relation = z.object({ id: z.number(), type: z.string(), from: ref, to: ref, description: z.string().nullable(), lag: z.number().nullable() });
export const timeEntry = z.object({ id: z.number(), spentOn: z.string(), hours: z.number(), user: ref, activity: ref, project: ref, workPackage: ref, comment: z.string() });
export const version = z.object({ id: z.number(), name: z.string(), status: z.string(), startDate: z.string().nullable(), endDate: z.string().nullable(), project: ref, description: z.string() });
export const userOut = z.object({ id: z.number(), name: z.string(), login: z.string().optional(), email: z.string().nullable().optional() });
export const project = z.object({ id: z.number(), identifier: z.string(), name: z.string(), active: z.boolean().optional(), description: z.string(), parent: ref, url: z.string() });
export const notification = z.object({ id: z.number(), reason: z.string(), read: z.boolean(), createdAt: z.string(), actor: ref, project: ref, workPackage: ref });

export const workPackageDetail = workPackageSummary.extend({
  description: z.string(),
  author: ref,
  responsible: ref,
  parent: ref,
  children: z.array(ref),
  startDate: z.string().nullable(),
  estimatedHours: z.number().nullable(),
  spentHours: z.number().nullable(),
  percentageDone: z.number().nullable(),
  createdAt: z.string().optional(),
  can: z.object({ edit: z.boolean(), comment: z.boolean(), logTime: z.boolean(), delete: z.boolean() }),
  comments: z.array(comment).optional(),
  relations: z.array(relation).optional(),
  watchers: z.array(userOut).optional(),
  attachments: z.array(z.object({ id: z.number(), fileName: z.string(), size: z.number().optional() })).optional(),
  timeEntries: z.array(timeEntry).optional(),
});

/** A page of a list tool. `nextPage` is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number(), page: z.number(), pageSize: z.number(), nextPage: z.number().nullable() });
}

export function page<T, R extends HalResource>(collection: HalCollection<R>, map: (r: R) => T, page: number, pageSize: number) {
  const items = elements(collection).map(map);
  const total = collection.total ?? items.length;
  return { items, total, page, pageSize, nextPage: page * pageSize < total ? page + 1 : null };
}

const text = (f: { raw?: string | null } | null | undefined) => f?.raw ?? '';

export class Normalizer {
  constructor(private readonly webUrl: string) {}

  workPackageUrl(id: number): string {
    return `${this.webUrl}/work_packages/${id}`;
  }

  summary(w: WorkPackage): z.infer<typeof workPackageSummary> {
    return {
      id: w.id,
      ...(w.displayId && { displayId: w.displayId }),
      subject: w.subject,
      type: linkRef(w, 'type'),
      status: linkRef(w, 'status'),
      priority: linkRef(w, 'priority'),
      assignee: linkRef(w, 'assignee'),
      project: linkRef(w, 'project'),
      version: linkRef(w, 'version'),
      dueDate: w.dueDate ?? null,
      updatedAt: w.updatedAt,
      lockVersion: w.lockVersion,
      url: this.workPackageUrl(w.id),
    };
  }

  detail(w: WorkPackage): z.infer<typeof workPackageDetail> {
    return {
      ...this.summary(w),
      description: text(w.description),
      author: linkRef(w, 'author'),
      responsible: linkRef(w, 'responsible'),
      parent: linkRef(w, 'parent'),
      children: links(w, 'children').map((l) => ({ id: idFromHref(l.href) ?? null, name: l.title ?? '' })),
      startDate: w.startDate ?? null,
      estimatedHours: durationToHours(w.estimatedTime) ?? null,
      spentHours: durationToHours(w.spentTime) ?? null,
      percentageDone: w.percentageDone ?? null,
      createdAt: w.createdAt,
      can: { edit: canDo(w, 'updateImmediately'), comment: canDo(w, 'addComment'), logTime: canDo(w, 'logTime'), delete: canDo(w, 'delete') },
    };
  }

  comment(a: Activity) {
    return {
      id: a.id,
      author: linkRef(a, 'user'),
      createdAt: a.createdAt,
      markdown: text(a.comment),
      internal: a.internal ?? false,
      ...(a.details?.length && { changes: a.details.map((d) => d.raw ?? '').filter(Boolean) }),
    };
  }

  relation(r: Relation) {
    return { id: r.id, type: r.type, from: linkRef(r, 'from'), to: linkRef(r, 'to'), description: r.description ?? null, lag: r.lag ?? null };
  }

  timeEntry(t: TimeEntry) {
    const entity = link(t, 'entity')?.href ? 'entity' : 'workPackage';
    return {
      id: t.id,
      spentOn: t.spentOn,
      hours: durationToHours(t.hours) ?? 0,
      user: linkRef(t, 'user'),
      activity: linkRef(t, 'activity'),
      project: linkRef(t, 'project'),
      workPackage: linkRef(t, entity),
      comment: text(t.comment),
    };
  }

  version(v: Version) {
    return { id: v.id, name: v.name, status: v.status, startDate: v.startDate ?? null, endDate: v.endDate ?? null, project: linkRef(v, 'definingProject'), description: text(v.description) };
  }

  user(u: User) {
    return { id: u.id, name: u.name, ...(u.login && { login: u.login }), ...(u.email !== undefined && { email: u.email }) };
  }

  project(p: Project) {
    return { id: p.id, identifier: p.identifier, name: p.name, active: p.active, description: text(p.description), parent: linkRef(p, 'parent'), url: `${this.webUrl}/projects/${p.identifier}` };
  }

  notification(n: Notification) {
    return { id: n.id, reason: n.reason, read: n.readIAN, createdAt: n.createdAt, actor: linkRef(n, 'actor'), project: linkRef(n, 'project'), workPackage: linkRef(n, 'resource') };
  }
}
