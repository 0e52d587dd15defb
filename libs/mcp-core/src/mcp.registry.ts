import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { NAMESPACE_PATTERN, TOOL_NAME_PATTERN } from './constants';
import type { McpContext, ToolContext } from './context';
import type { PromptOptions } from './decorators/prompt.decorator';
import type { ResourceOptions, ResourceTemplateOptions } from './decorators/resource.decorator';
import type { ToolOptions } from './decorators/tool.decorator';
import { isJsonSchemaInput, type ToolInput } from './json-schema-input';
import { ToolDefinitionError } from './tool.error';

export type ToolHandler = (input: unknown, ctx: ToolContext) => unknown;
export type ResourceHandler = (uri: URL, ctx: McpContext) => unknown;
export type ResourceTemplateHandler = (uri: URL, variables: Record<string, string>, ctx: McpContext) => unknown;
export type PromptHandler = (args: unknown, ctx: McpContext) => unknown;

interface Entry<D, H> {
  name: string;
  namespace: string;
  /** `ClassName.method`, for error messages and logs. */
  source: string;
  definition: D;
  handler: H;
}

export type RegisteredTool = Entry<ToolOptions & { input: ToolInput }, ToolHandler>;
export type RegisteredResource = Entry<ResourceOptions, ResourceHandler>;
export type RegisteredResourceTemplate = Entry<ResourceTemplateOptions, ResourceTemplateHandler>;
export type RegisteredPrompt = Entry<PromptOptions & { args: z.ZodObject }, PromptHandler>;

export type RegistryKind = 'tools' | 'resources' | 'prompts';
export type RegistryListener = (kind: RegistryKind) => void;

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Everything the process serves: tools, resources, resource templates and
 * prompts, each keyed by name. Filled by the explorer at boot; modules may add
 * and remove entries at runtime (listeners hear of every change, so open
 * sessions and subscription streams get `list_changed`). Lists are ordered by
 * name, so they are deterministic.
 */
@Injectable()
export class McpRegistry {
  private readonly toolMap = new Map<string, RegisteredTool>();
  private readonly resourceMap = new Map<string, RegisteredResource | RegisteredResourceTemplate>();
  private readonly promptMap = new Map<string, RegisteredPrompt>();
  private readonly listeners = new Set<RegistryListener>();
  private readonly updateListeners = new Set<(uri: string) => void>();

  addTool(entry: Entry<ToolOptions, ToolHandler>): RegisteredTool {
    const { name, source, definition } = entry;
    if (!TOOL_NAME_PATTERN.test(name)) {
      throw new ToolDefinitionError(
        `Invalid tool name "${name}" on ${source}: use snake_case [a-z0-9_], starting with a letter, at most 64 characters`,
      );
    }
    this.checkCommon(entry, 'tool');
    if (definition.input !== undefined && !(definition.input instanceof z.ZodObject) && !isJsonSchemaInput(definition.input)) {
      throw new ToolDefinitionError(
        `Tool "${name}" on ${source}: input must be a zod object schema (z.object({...})) or jsonSchemaInput({ type: 'object', ... })`,
      );
    }
    if (definition.output !== undefined && !(definition.output instanceof z.ZodObject)) {
      throw new ToolDefinitionError(`Tool "${name}" on ${source}: output must be a zod object schema (z.object({...}))`);
    }
    const limit = definition.rateLimit;
    if (limit !== undefined && !(Number.isInteger(limit.limit) && limit.limit > 0 && Number.isInteger(limit.windowMs) && limit.windowMs > 0)) {
      throw new ToolDefinitionError(`Tool "${name}" on ${source}: rateLimit needs a positive integer limit and windowMs`);
    }
    const existing = this.toolMap.get(name);
    if (existing) throw new ToolDefinitionError(`Duplicate tool name "${name}": declared by ${existing.source} and by ${source}`);
    const tool: RegisteredTool = { ...entry, definition: { ...definition, input: definition.input ?? z.object({}) } };
    this.toolMap.set(name, tool);
    this.changed('tools');
    return tool;
  }

  addResource(entry: RegisteredResource): RegisteredResource {
    this.checkCommon(entry, 'resource');
    try {
      new URL(entry.definition.uri);
    } catch {
      throw new ToolDefinitionError(`Resource "${entry.name}" on ${entry.source}: "${entry.definition.uri}" is not an absolute URI`);
    }
    return this.addToResources(entry);
  }

  addResourceTemplate(entry: RegisteredResourceTemplate): RegisteredResourceTemplate {
    this.checkCommon(entry, 'resource template');
    if (!/\{[^}]+\}/.test(entry.definition.uriTemplate)) {
      throw new ToolDefinitionError(`Resource template "${entry.name}" on ${entry.source}: "${entry.definition.uriTemplate}" has no {variable}`);
    }
    return this.addToResources(entry);
  }

  addPrompt(entry: Entry<PromptOptions, PromptHandler>): RegisteredPrompt {
    const { name, source, definition } = entry;
    if (!TOOL_NAME_PATTERN.test(name)) {
      throw new ToolDefinitionError(`Invalid prompt name "${name}" on ${source}: use snake_case [a-z0-9_], at most 64 characters`);
    }
    this.checkCommon(entry, 'prompt');
    if (definition.args !== undefined && !(definition.args instanceof z.ZodObject)) {
      throw new ToolDefinitionError(`Prompt "${name}" on ${source}: args must be a zod object schema (z.object({...}))`);
    }
    const existing = this.promptMap.get(name);
    if (existing) throw new ToolDefinitionError(`Duplicate prompt name "${name}": declared by ${existing.source} and by ${source}`);
    const prompt: RegisteredPrompt = { ...entry, definition: { ...definition, args: definition.args ?? z.object({}) } };
    this.promptMap.set(name, prompt);
    this.changed('prompts');
    return prompt;
  }

  /** Removes a tool; true if there was one. Listeners hear of it. */
  removeTool(name: string): boolean {
    return this.remove(this.toolMap, name, 'tools');
  }

  /** Removes a resource or resource template; true if there was one. Listeners hear of it. */
  removeResource(name: string): boolean {
    return this.remove(this.resourceMap, name, 'resources');
  }

  /** Removes a prompt; true if there was one. Listeners hear of it. */
  removePrompt(name: string): boolean {
    return this.remove(this.promptMap, name, 'prompts');
  }

  getTool(name: string): RegisteredTool | undefined {
    return this.toolMap.get(name);
  }

  /** A resource or resource template by name. */
  getResource(name: string): RegisteredResource | RegisteredResourceTemplate | undefined {
    return this.resourceMap.get(name);
  }

  getPrompt(name: string): RegisteredPrompt | undefined {
    return this.promptMap.get(name);
  }

  tools(): RegisteredTool[] {
    return [...this.toolMap.values()].sort(byName);
  }

  resources(): RegisteredResource[] {
    return [...this.resourceMap.values()].filter((r): r is RegisteredResource => 'uri' in r.definition).sort(byName);
  }

  resourceTemplates(): RegisteredResourceTemplate[] {
    return [...this.resourceMap.values()]
      .filter((r): r is RegisteredResourceTemplate => 'uriTemplate' in r.definition)
      .sort(byName);
  }

  prompts(): RegisteredPrompt[] {
    return [...this.promptMap.values()].sort(byName);
  }

  /** Hears of every addition and removal; returns the unsubscribe function. */
  onChange(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Announces that the content of a resource changed: sessions that
   * subscribed to `uri` (legacy `resources/subscribe`, modern
   * `subscriptions/listen`) get `notifications/resources/updated`.
   */
  resourceUpdated(uri: string): void {
    for (const listener of this.updateListeners) listener(uri);
  }

  /** Hears of {@link resourceUpdated}; returns the unsubscribe function. */
  onResourceUpdated(listener: (uri: string) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  private addToResources<T extends RegisteredResource | RegisteredResourceTemplate>(entry: T): T {
    const existing = this.resourceMap.get(entry.name);
    if (existing) {
      throw new ToolDefinitionError(`Duplicate resource name "${entry.name}": declared by ${existing.source} and by ${entry.source}`);
    }
    this.resourceMap.set(entry.name, entry);
    this.changed('resources');
    return entry;
  }

  private checkCommon(entry: { name: string; namespace: string; source: string; definition: { description?: string } }, what: string): void {
    if (!NAMESPACE_PATTERN.test(entry.namespace)) {
      throw new ToolDefinitionError(`Invalid ${what} namespace "${entry.namespace}" on ${entry.source}: use ${NAMESPACE_PATTERN.source}`);
    }
    if (!entry.name) throw new ToolDefinitionError(`A ${what} on ${entry.source} needs a name`);
    if (!entry.definition.description?.trim()) {
      throw new ToolDefinitionError(`${what[0].toUpperCase()}${what.slice(1)} "${entry.name}" on ${entry.source} needs a description`);
    }
  }

  private remove(map: Map<string, unknown>, name: string, kind: RegistryKind): boolean {
    if (!map.delete(name)) return false;
    this.changed(kind);
    return true;
  }

  private changed(kind: RegistryKind): void {
    for (const listener of this.listeners) listener(kind);
  }
}
