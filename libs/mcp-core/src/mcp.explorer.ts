import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { PROMPT_METADATA, RESOURCE_METADATA, RESOURCE_TEMPLATE_METADATA, TOOL_METADATA, TOOL_PROVIDER_METADATA } from './constants';
import type { PromptOptions } from './decorators/prompt.decorator';
import type { ResourceOptions, ResourceTemplateOptions } from './decorators/resource.decorator';
import type { ToolOptions } from './decorators/tool.decorator';
import type { ToolProviderOptions } from './decorators/tool-provider.decorator';
import { McpRegistry } from './mcp.registry';

/**
 * Finds `@ToolProvider` instances among all Nest providers and registers each
 * `@Tool`, `@Resource`, `@ResourceTemplate` and `@Prompt` method. Runs at
 * module init, so a bad definition fails the boot.
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
      const provider = Reflect.getMetadata(TOOL_PROVIDER_METADATA, metatype) as ToolProviderOptions | undefined;
      if (!provider) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = prototype[method] as (...args: never[]) => unknown;
        const handler = fn.bind(instance) as never;
        const common = { namespace: provider.namespace, source: `${metatype.name}.${method}`, handler };
        const tool = Reflect.getMetadata(TOOL_METADATA, fn) as ToolOptions | undefined;
        if (tool) this.registry.addTool({ ...common, name: tool.name, definition: tool });
        const resource = Reflect.getMetadata(RESOURCE_METADATA, fn) as ResourceOptions | undefined;
        if (resource) this.registry.addResource({ ...common, name: resource.name, definition: resource });
        const template = Reflect.getMetadata(RESOURCE_TEMPLATE_METADATA, fn) as ResourceTemplateOptions | undefined;
        if (template) this.registry.addResourceTemplate({ ...common, name: template.name, definition: template });
        const prompt = Reflect.getMetadata(PROMPT_METADATA, fn) as PromptOptions | undefined;
        if (prompt) this.registry.addPrompt({ ...common, name: prompt.name, definition: prompt });
      }
    }
  }
}
