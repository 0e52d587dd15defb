import { RESOURCE_METADATA, RESOURCE_TEMPLATE_METADATA } from '../constants';

interface ResourceCommon {
  /** Unique among resources and templates; shown in lists. */
  name: string;
  title?: string;
  description: string;
  mimeType?: string;
  /** Scopes a principal needs to list and read it. */
  scopes?: string[];
}

export interface ResourceOptions extends ResourceCommon {
  uri: string;
}

/** Completes one URI template variable from what the user typed so far. */
export type VariableCompleter = (value: string, context: { arguments: Record<string, string> }) => string[] | Promise<string[]>;

export interface ResourceTemplateOptions extends ResourceCommon {
  /** RFC 6570 template, e.g. `test://template/{id}/data`. */
  uriTemplate: string;
  /** Completions for template variables (`completion/complete`). */
  complete?: Record<string, VariableCompleter>;
}

/**
 * Declares a static resource. The method is called as `(uri: URL, ctx: McpContext)`
 * and returns a string (text), a `Uint8Array` (binary, sent base64), or a full
 * `ReadResourceResult`.
 */
export function Resource(options: ResourceOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(RESOURCE_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}

/**
 * Declares a resource template. The method is called as
 * `(uri: URL, variables: Record<string, string>, ctx: McpContext)` and returns
 * what a `@Resource` method returns.
 */
export function ResourceTemplate(options: ResourceTemplateOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(RESOURCE_TEMPLATE_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}
