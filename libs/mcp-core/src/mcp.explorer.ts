import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { PROMPT_METADATA, RESOURCE_METADATA, RESOURCE_TEMPLATE_METADATA, TOOL_METADATA, TOOL_PROVIDER_METADATA } from './constants';
import type { PromptOptions } from './decorators/prompt.decorator';
import type { ResourceOptions, ResourceTemplateOptions } from './decorators/resource.decorator';
import type { ToolOptions } from './decorators/tool.decorator';
import type { ToolProviderOptions } from './decorators/tool-provider.decorator';
import { McpRegistry } from './mcp.registry';
import { ToolDefinitionError } from './tool.error';

/**
 * Finds `@ToolProvider` instances among all Nest providers and registers each
 * `@Tool`, `@Resource`, `@ResourceTemplate` and `@Prompt` method. Runs at
 * module init, so a bad definition fails the boot. {@link register} does the
 * same at runtime for an object the application creates itself.
 */
@Injectable()
export class McpExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: McpRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype || typeof instance !== 'object') continue;
      if (!Reflect.getMetadata(TOOL_PROVIDER_METADATA, metatype)) continue;
      this.register(instance as object);
    }
  }

  /**
   * Registers the decorated methods of an instance of a `@ToolProvider`
   * class at runtime, for tools, resources and prompts that come and go
   * while the server runs (a plugin loaded on demand, a per-tenant feature).
   * The registry's listeners hear of each addition, so open sessions and
   * subscription streams get `list_changed`. Returns a function that removes
   * exactly what this call added.
   *
   * Throws {@link ToolDefinitionError} on a bad or duplicate definition,
   * after taking off again whatever the instance had added before it.
   */
  register(instance: object): () => void {
    const metatype = instance.constructor as Function;
    const provider = Reflect.getMetadata(TOOL_PROVIDER_METADATA, metatype) as ToolProviderOptions | undefined;
    if (!provider) throw new ToolDefinitionError(`${metatype.name} is not a @ToolProvider class`);
    const added: (() => void)[] = [];
    const removeAll = () => {
      for (const remove of added.splice(0)) remove();
    };
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    try {
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = prototype[method] as (...args: never[]) => unknown;
        const handler = fn.bind(instance) as never;
        const common = { namespace: provider.namespace, source: `${metatype.name}.${method}`, handler };
        const tool = Reflect.getMetadata(TOOL_METADATA, fn) as ToolOptions | undefined;
        if (tool) {
          const entry = this.registry.addTool({ ...common, name: tool.name, definition: tool });
          added.push(() => this.registry.getTool(entry.name) === entry && this.registry.removeTool(entry.name));
        }
        const resource = Reflect.getMetadata(RESOURCE_METADATA, fn) as ResourceOptions | undefined;
        if (resource) {
          const entry = this.registry.addResource({ ...common, name: resource.name, definition: resource });
          added.push(() => this.registry.getResource(entry.name) === entry && this.registry.removeResource(entry.name));
        }
        const template = Reflect.getMetadata(RESOURCE_TEMPLATE_METADATA, fn) as ResourceTemplateOptions | undefined;
        if (template) {
          const entry = this.registry.addResourceTemplate({ ...common, name: template.name, definition: template });
          added.push(() => this.registry.getResource(entry.name) === entry && this.registry.removeResource(entry.name));
        }
        const prompt = Reflect.getMetadata(PROMPT_METADATA, fn) as PromptOptions | undefined;
        if (prompt) {
          const entry = this.registry.addPrompt({ ...common, name: prompt.name, definition: prompt });
          added.push(() => this.registry.getPrompt(entry.name) === entry && this.registry.removePrompt(entry.name));
        }
      }
    } catch (e) {
      removeAll();
      throw e;
    }
    return removeAll;
  }
}
