import { DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MCP_CORE_OPTIONS, type McpCoreOptions } from './mcp-core.options';
import { McpServerBuilder } from './mcp-server.builder';
import { McpExplorer } from './mcp.explorer';
import { McpRegistry } from './mcp.registry';
import { ToolInvoker } from './tool.invoker';

/** Discovery, registry, invoker and server builder. Import once, in the root module. */
@Global()
@Module({})
export class McpCoreModule {
  static forRoot(options: McpCoreOptions): DynamicModule {
    return {
      module: McpCoreModule,
      imports: [DiscoveryModule],
      providers: [{ provide: MCP_CORE_OPTIONS, useValue: options }, McpRegistry, McpExplorer, ToolInvoker, McpServerBuilder],
      exports: [McpRegistry, McpExplorer, ToolInvoker, McpServerBuilder],
    };
  }
}
