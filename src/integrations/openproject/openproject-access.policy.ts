import { Inject, Injectable } from '@nestjs/common';
import { type ToolContext, ToolError } from '@portico/mcp-core';
import { APP_CONFIG, type AppConfig, type OpenProjectConfig, type OpenProjectWriteCategory } from '../../config/app-config';
import { OpenProjectRefusal } from './openproject-tool.error';

/**
 * What a deployment lets the tools do, checked before OpenProject is called:
 * enabled write categories, deletes (off unless enabled, and each call
 * confirmed), and the project allow-list. Every refusal is a ToolError with
 * an `openproject.*` code, and its reason goes into the call's audit detail.
 */
@Injectable()
export class OpenProjectAccessPolicy {
  private readonly config: OpenProjectConfig;
  private readonly allowed: Set<string>;
  /** Ids of the allowed projects: numeric entries at once, identifiers once resolved. */
  readonly allowedIds = new Set<number>();
  private readonly resolved = new Set<string>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.config = config.openproject!;
    this.allowed = new Set(this.config.projects.map((p) => p.toLowerCase()));
    for (const p of this.allowed) if (/^\d+$/.test(p)) this.allowedIds.add(Number(p));
  }

  /** Allow-list identifiers whose ids are not known yet (resolved with the first caller that can see them). */
  get unresolved(): string[] {
    return [...this.allowed].filter((p) => !/^\d+$/.test(p) && !this.resolved.has(p));
  }

  /** Records the id of an allowed project identifier (identifiers are unique in OpenProject). */
  resolve(identifier: string, id: number): void {
    this.resolved.add(identifier.toLowerCase());
    this.allowedIds.add(id);
  }

  get restricted(): boolean {
    return this.allowed.size > 0;
  }

  assertWrite(category: OpenProjectWriteCategory, ctx: ToolContext): void {
    if (this.config.write.includes(category)) return;
    this.refuse(ctx, OpenProjectRefusal.WriteDisabled, { category },
      `Writing ${category} is disabled on this Portico (OPENPROJECT_WRITE=${this.config.write.join(',') || '<empty>, read-only'}). ` +
        `An administrator can enable it by adding "${category}" to OPENPROJECT_WRITE.`);
  }

  assertDelete(confirm: boolean | undefined, what: string, ctx: ToolContext): void {
    if (!this.config.allowDelete) {
      this.refuse(ctx, OpenProjectRefusal.DeleteDisabled, { what },
        `Deleting is disabled on this Portico (OPENPROJECT_ALLOW_DELETE=false); ${what} was not deleted. An administrator can enable destructive tools.`);
    }
    if (confirm !== true) {
      this.refuse(ctx, OpenProjectRefusal.ConfirmRequired, { what },
        `Deleting ${what} cannot be undone: ask the user, then call again with confirm: true.`);
    }
  }

  /** Checks a project (as OpenProject returned it) against OPENPROJECT_PROJECTS. */
  assertProject(project: { id: number | null; identifier?: string; name?: string } | null | undefined, ctx: ToolContext): void {
    if (!this.restricted || !project) return;
    if ((project.id !== null && this.allowedIds.has(project.id)) || (project.identifier && this.allowed.has(project.identifier.toLowerCase()))) return;
    const label = project.identifier ?? project.name ?? String(project.id);
    this.refuse(ctx, OpenProjectRefusal.ProjectNotAllowed, { project: label },
      `Project ${label} is not among the projects this Portico may use (${this.config.projects.join(', ')}).`);
  }

  /** The allow-list as OpenProject project filter values (ids and identifiers as configured). */
  get projects(): string[] {
    return this.config.projects;
  }

  private refuse(ctx: ToolContext, code: OpenProjectRefusal, facts: Record<string, unknown>, message: string): never {
    ctx.auditDetail({ refusal: { reason: code, ...facts } });
    throw new ToolError(message, { code });
  }
}
