import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { TOOL_METADATA, TOOL_PROVIDER_METADATA } from './constants';
import type { ToolOptions } from './decorators/tool.decorator';
import type { ToolProviderOptions } from './decorators/tool-provider.decorator';
import { ToolRegistry } from './tool.registry';

/**
 * Finds `@ToolProvider` instances among all Nest providers and registers each
 * `@Tool` method. Runs at module init, so a bad definition fails the boot.
 */
@Injectable()
export class ToolExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: ToolRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype || typeof instance !== 'object') continue;
      const providerOptions = Reflect.getMetadata(TOOL_PROVIDER_METADATA, metatype) as ToolProviderOptions | undefined;
      if (!providerOptions) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = prototype[method] as (...args: unknown[]) => unknown;
        const definition = Reflect.getMetadata(TOOL_METADATA, fn) as ToolOptions | undefined;
        if (!definition) continue;
        this.registry.register({
          name: definition.name,
          namespace: providerOptions.namespace,
          source: `${metatype.name}.${method}`,
          definition,
          handler: fn.bind(instance),
        });
      }
    }
  }
}
