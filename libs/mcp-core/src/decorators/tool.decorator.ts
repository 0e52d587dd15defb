import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { TOOL_METADATA } from '../constants';
import type { ToolInput } from '../json-schema-input';

export interface ToolOptions {
  /** snake_case, at most 64 characters, unique across all providers. */
  name: string;
  /** Human-readable name for clients' UIs. */
  title?: string;
  /** What the tool does, written for the model: when to use it and what it returns. */
  description: string;
  /**
   * Input schema: a zod object, or a raw JSON Schema made with
   * `jsonSchemaInput({...})` for what zod cannot express. A tool without
   * input takes `z.object({})`, the default.
   */
  input?: ToolInput;
  /** Output schema: the handler returns an object of this shape (sent as structured content). */
  output?: z.ZodObject;
  annotations?: ToolAnnotations;
  /** Scopes a principal needs to see and call the tool. Default: none. */
  scopes?: string[];
  /** Overrides the default tool timeout (`TOOL_TIMEOUT_MS`). */
  timeoutMs?: number;
  /**
   * At most `limit` calls per principal in any `windowMs`, for tools that are
   * expensive or write to another system. The host enforces it before the call
   * reaches the invoker (Portico: HTTP 429 with `Retry-After`, audited); its
   * configuration may override it. Default: only the host's request limit.
   */
  rateLimit?: { limit: number; windowMs: number };
}

/**
 * Declares a tool on a method of a `@ToolProvider` class. It only records
 * metadata: the explorer validates and registers it at boot, and the invoker
 * runs it (scopes, validation, timeout, audit and error mapping).
 *
 * The method is called as `(input, ctx: ToolContext)` and returns a string, an
 * object matching `output`, or a full `CallToolResult`.
 */
export function Tool(options: ToolOptions): MethodDecorator {
  return (target, key, descriptor) => {
    Reflect.defineMetadata(TOOL_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}
