import { Inject, Injectable } from '@nestjs/common';
import { ToolError } from '@portico/mcp-core';
import { elements, filter, type HalResource, type OpenProjectClient, type Project } from '@portico/openproject-client';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type { OpenProjectSession } from './openproject-identity.service';

interface Named extends HalResource {
  id: number;
  name: string;
}

/**
 * Turns what the model typed (an id, a name, `me`, a project identifier) into
 * OpenProject ids. Statuses, types and priorities are the same for everyone
 * and cached (OPENPROJECT_CACHE_SECONDS); projects, users and versions are
 * looked up with the caller's own client, so visibility stays OpenProject's.
 */
@Injectable()
export class OpenProjectReferences {
  private readonly ttlMs: number;
  private readonly cache = new Map<string, { value: Named[]; expires: number }>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.ttlMs = config.openproject!.cacheTtlMs;
  }

  async statuses(client: OpenProjectClient, signal?: AbortSignal) {
    return this.cached('statuses', async () => elements(await client.statuses(signal)) as unknown as Named[]) as Promise<(Named & { isClosed: boolean })[]>;
  }
  async types(client: OpenProjectClient, signal?: AbortSignal) {
    return this.cached('types', async () => elements(await client.types(undefined, signal)) as unknown as Named[]);
  }
  async priorities(client: OpenProjectClient, signal?: AbortSignal) {
    return this.cached('priorities', async () => elements(await client.priorities(signal)) as unknown as Named[]);
  }

  async status(s: OpenProjectSession, value: string | number, signal?: AbortSignal): Promise<Named> {
    return pick('status', value, await this.statuses(s.client, signal));
  }
  async type(s: OpenProjectSession, value: string | number, signal?: AbortSignal): Promise<Named> {
    return pick('type', value, await this.types(s.client, signal));
  }
  async priority(s: OpenProjectSession, value: string | number, signal?: AbortSignal): Promise<Named> {
    return pick('priority', value, await this.priorities(s.client, signal));
  }

  /** A project by id or identifier (as the caller sees it), else by exact name. */
  async project(s: OpenProjectSession, value: string | number, signal?: AbortSignal): Promise<Project> {
    const key = String(value).trim();
    if (/^\d+$/.test(key) || /^[a-z0-9_-]+$/.test(key)) {
      try {
        return await s.client.project(key, signal);
      } catch {
        // fall through to the name search
      }
    }
    const found = elements(await s.client.projects({ filters: [filter('name_and_identifier', '~', [key])], pageSize: 50 }, signal));
    const exact = found.filter((p) => p.name.toLowerCase() === key.toLowerCase() || p.identifier === key);
    if (exact.length === 1) return exact[0];
    if (found.length === 1) return found[0];
    throw new ToolError(
      found.length
        ? `Project "${key}" is ambiguous: ${found.slice(0, 10).map((p) => `${p.identifier} (${p.name})`).join(', ')}. Use the identifier.`
        : `No project "${key}" visible to OpenProject user ${s.user.name}. openproject_list_projects shows the projects.`,
    );
  }

  /** A user by id, `me`, login or (part of) the name; ambiguous names list the candidates. */
  async user(s: OpenProjectSession, value: string | number, signal?: AbortSignal): Promise<{ id: number; name: string }> {
    const key = String(value).trim();
    if (key.toLowerCase() === 'me') return { id: s.user.id, name: s.user.name };
    if (/^\d+$/.test(key)) return { id: Number(key), name: `user ${key}` };
    const found = elements(await s.client.principals({ filters: [filter('type', '=', ['User']), filter('name', '~', [key])], pageSize: 20 }, signal)) as unknown as (Named & { login?: string })[];
    const exact = found.filter((u) => u.name.toLowerCase() === key.toLowerCase() || u.login === key);
    const hit = exact.length === 1 ? exact[0] : found.length === 1 ? found[0] : undefined;
    if (hit) return { id: hit.id, name: hit.name };
    throw new ToolError(
      found.length ? `User "${key}" is ambiguous: ${found.slice(0, 10).map((u) => `${u.name} (id ${u.id})`).join(', ')}. Use the id.` : `No user "${key}" found. openproject_search_users finds users.`,
    );
  }

  /** A version of `projectId` by id or name. */
  async version(s: OpenProjectSession, value: string | number, projectId: number, signal?: AbortSignal): Promise<Named> {
    return pick('version', value, elements(await s.client.versions({ project: projectId }, signal)) as unknown as Named[]);
  }

  private async cached(key: string, load: () => Promise<Named[]>): Promise<Named[]> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const value = await load();
    this.cache.set(key, { value, expires: Date.now() + this.ttlMs });
    return value;
  }
}

function pick<T extends Named>(kind: string, value: string | number, options: T[]): T {
  const key = String(value).trim().toLowerCase();
  const hit = options.find((o) => String(o.id) === key) ?? options.find((o) => o.name.toLowerCase() === key);
  if (hit) return hit;
  throw new ToolError(`Unknown ${kind} "${value}". Known: ${options.map((o) => `${o.name} (${o.id})`).join(', ')}.`);
}
