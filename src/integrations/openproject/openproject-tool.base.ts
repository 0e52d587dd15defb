import { Inject } from '@nestjs/common';
import type { ToolContext } from '@portico/mcp-core';
import { type Filter, filter, type Project, type WorkPackage } from '@portico/openproject-client';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig, type OpenProjectConfig } from '../../config/app-config';
import { OpenProjectAccessPolicy } from './openproject-access.policy';
import { OpenProjectIdentityService, type OpenProjectSession } from './openproject-identity.service';
import { OpenProjectReferences } from './openproject-references.service';
import { toToolError } from './openproject-tool.error';
import { Normalizer } from './openproject.normalize';

export const READ = ['openproject:read'];
export const WRITE = ['openproject:write'];
export const DELETE = ['openproject:delete'];
/** Every OpenProject tool: it talks to one known system, not the open world. */
export const RO = { readOnlyHint: true, idempotentHint: true, openWorldHint: false } as const;

export const pageArgs = {
  page: z.number().int().min(1).default(1).describe('1-based page number'),
  pageSize: z.number().int().min(1).max(1000).default(25).describe('Items per page (capped by the deployment)'),
};
export const dateArg = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD');
export const idArg = z.union([z.number().int().positive(), z.string().regex(/^#?\d+$/).transform((s) => Number(s.replace('#', '')))]);

/** Shared plumbing of the OpenProject tool providers: identity, policy, name resolution, error mapping. */
export abstract class OpenProjectToolBase {
  protected readonly config: OpenProjectConfig;
  protected readonly normalize: Normalizer;

  constructor(
    protected readonly identity: OpenProjectIdentityService,
    protected readonly policy: OpenProjectAccessPolicy,
    protected readonly refs: OpenProjectReferences,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.config = config.openproject!;
    this.normalize = new Normalizer(this.config.webUrl);
  }

  /** Runs `fn` as the caller's OpenProject user; client failures become ToolErrors the model can act on. */
  protected async as<T>(ctx: ToolContext, fn: (s: OpenProjectSession) => Promise<T>): Promise<T> {
    const session = await this.identity.forCall(ctx);
    try {
      for (const identifier of this.policy.unresolved) {
        const p = await this.refs.project(session, identifier, ctx.signal).catch(() => undefined);
        if (p?.identifier.toLowerCase() === identifier) this.policy.resolve(identifier, p.id);
      }
      return await fn(session);
    } catch (e) {
      throw toToolError(e, session.user.name);
    }
  }

  protected pageSize(requested: number): number {
    return Math.min(requested, this.config.maxPageSize);
  }

  /** Fetches a work package and checks its project against the allow-list. */
  protected async workPackage(s: OpenProjectSession, id: number, ctx: ToolContext): Promise<WorkPackage> {
    const wp = await s.client.workPackage(id, ctx.signal);
    this.policy.assertProject(this.projectOf(wp), ctx);
    return wp;
  }

  /** A project by identifier, id or name, checked against the allow-list. */
  protected async allowedProject(s: OpenProjectSession, key: string, ctx: ToolContext): Promise<Project> {
    const p = await this.refs.project(s, key, ctx.signal);
    this.policy.assertProject(p, ctx);
    return p;
  }

  protected projectOf(wp: WorkPackage): { id: number | null; name: string } | null {
    const l = wp._links.project as { href: string | null; title?: string } | undefined;
    const id = l?.href ? Number(/(\d+)$/.exec(l.href)?.[1]) : null;
    return l ? { id: Number.isFinite(id) ? id : null, name: l.title ?? '' } : null;
  }

  /** With an allow-list, lists are limited to its projects (an impossible id when none is visible). */
  protected allowListFilter(_s: OpenProjectSession, name: string, _ctx: ToolContext): Promise<Filter[]> {
    if (!this.policy.restricted) return Promise.resolve([]);
    const ids = [...this.policy.allowedIds];
    return Promise.resolve([filter(name, '=', ids.length ? ids : [0])]);
  }
}
