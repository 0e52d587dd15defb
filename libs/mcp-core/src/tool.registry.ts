import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { NAMESPACE_PATTERN, TOOL_NAME_PATTERN } from './constants';
import type { ToolOptions } from './decorators/tool.decorator';
import type { ToolContext } from './tool-context';
import { ToolDefinitionError } from './tool.error';

export type ToolHandler = (input: unknown, ctx: ToolContext) => unknown;

/** A tool as registered: its definition, where it came from, and its bound handler. */
export interface RegisteredTool {
  name: string;
  namespace: string;
  /** `ClassName.method`, for error messages and logs. */
  source: string;
  definition: ToolOptions & { input: z.ZodObject };
  handler: ToolHandler;
}

/**
 * Every tool the process serves, keyed by name. Filled by the explorer at
 * boot; modules may also register at runtime. Listing order is by name, so
 * `tools/list` is deterministic.
 */
@Injectable()
export class ToolRegistry {
  private readonly tools = new Map<string, RegisteredTool>();

  register(tool: Omit<RegisteredTool, 'definition'> & { definition: ToolOptions }): RegisteredTool {
    const { name, namespace, source, definition } = tool;
    if (!NAMESPACE_PATTERN.test(namespace)) {
      throw new ToolDefinitionError(`Invalid tool namespace "${namespace}" on ${source}: use ${NAMESPACE_PATTERN.source}`);
    }
    if (!TOOL_NAME_PATTERN.test(name)) {
      throw new ToolDefinitionError(
        `Invalid tool name "${name}" on ${source}: use snake_case [a-z0-9_], starting with a letter, at most 64 characters`,
      );
    }
    if (!definition.description?.trim()) {
      throw new ToolDefinitionError(`Tool "${name}" on ${source} needs a description`);
    }
    for (const [field, schema] of [
      ['input', definition.input],
      ['output', definition.output],
    ] as const) {
      if (schema !== undefined && !(schema instanceof z.ZodObject)) {
        throw new ToolDefinitionError(`Tool "${name}" on ${source}: ${field} must be a zod object schema (z.object({...}))`);
      }
    }
    const existing = this.tools.get(name);
    if (existing) {
      throw new ToolDefinitionError(`Duplicate tool name "${name}": declared by ${existing.source} and by ${source}`);
    }
    const registered: RegisteredTool = {
      ...tool,
      definition: { ...definition, input: definition.input ?? z.object({}) },
    };
    this.tools.set(name, registered);
    return registered;
  }

  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  list(): RegisteredTool[] {
    return [...this.tools.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
