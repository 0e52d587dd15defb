import type { z } from 'zod';
import { PROMPT_METADATA } from '../constants';

/** Completes one prompt argument from what the user typed so far. */
export type ArgumentCompleter = (value: string, context: { arguments: Record<string, string> }) => string[] | Promise<string[]>;

export interface PromptOptions {
  /** snake_case, unique among prompts. */
  name: string;
  title?: string;
  description: string;
  /** Arguments: a zod object of strings (prompt arguments are strings on the wire). */
  args?: z.ZodObject;
  /** Completions for arguments (`completion/complete`). */
  complete?: Record<string, ArgumentCompleter>;
  /** Scopes a principal needs to list and get it. */
  scopes?: string[];
}

/**
 * Declares a prompt. The method is called as `(args, ctx: McpContext)` and
 * returns a string (one user message) or a full `GetPromptResult`.
 */
export function Prompt(options: PromptOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(PROMPT_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}
