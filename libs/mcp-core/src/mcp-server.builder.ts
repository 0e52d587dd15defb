import { McpServer, type ServerContext, type StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { MCP_CORE_OPTIONS, type McpCoreOptions } from './mcp-core.options';
import { hasScopes, type Principal } from './principal';
import type { ToolContext, ToolLogLevel } from './tool-context';
import { ToolInvoker } from './tool.invoker';
import { type RegisteredTool, ToolRegistry } from './tool.registry';

export interface BuildServerOptions {
  principal: Principal;
  era: ToolContext['era'];
  sessionId?: string;
  /** Reads the current HTTP request id (from async context) when a call starts. */
  requestId?: () => string | undefined;
}

/**
 * Builds an SDK `McpServer` holding the tools a principal may use. Modern
 * traffic gets one per request, a legacy session one per session.
 */
@Injectable()
export class McpServerBuilder {
  private readonly schemas = new WeakMap<z.ZodObject, StandardSchemaWithJSON>();

  constructor(
    private readonly registry: ToolRegistry,
    private readonly invoker: ToolInvoker,
    @Inject(MCP_CORE_OPTIONS) private readonly core: McpCoreOptions,
  ) {}

  build(options: BuildServerOptions): McpServer {
    const { name, title, version, instructions } = this.core.server;
    const server = new McpServer({ name, title, version }, { instructions, capabilities: { tools: {} } });
    for (const tool of this.registry.list()) {
      if (!hasScopes(options.principal, tool.definition.scopes ?? [])) continue;
      const { title: toolTitle, description, input, output, annotations } = tool.definition;
      server.registerTool(
        tool.name,
        {
          title: toolTitle,
          description,
          inputSchema: this.advertise(input),
          outputSchema: output && this.advertise(output),
          annotations,
        },
        (args: unknown, ctx: ServerContext) => this.invoker.invoke(tool, args, toolContext(tool, ctx, options)),
      );
    }
    return server;
  }

  /**
   * The schema as the SDK sees it: the zod schema's JSON Schema for
   * `tools/list`, and a validator that accepts anything, because the
   * {@link ToolInvoker} validates so that rejected input is audited and the
   * message is shaped for the model. Cached per schema.
   */
  private advertise(schema: z.ZodObject): StandardSchemaWithJSON {
    let advertised = this.schemas.get(schema);
    if (!advertised) {
      const std = schema['~standard'];
      const cache: Record<string, Record<string, unknown>> = {};
      advertised = {
        '~standard': {
          version: 1,
          vendor: 'portico',
          validate: (value: unknown) => ({ value }),
          jsonSchema: {
            input: (o: { target: string }) => (cache[`i${o.target}`] ??= std.jsonSchema.input(o as never)),
            output: (o: { target: string }) => (cache[`o${o.target}`] ??= std.jsonSchema.output(o as never)),
          },
        },
      } as unknown as StandardSchemaWithJSON;
      this.schemas.set(schema, advertised);
    }
    return advertised;
  }
}

function toolContext(tool: RegisteredTool, ctx: ServerContext, options: BuildServerOptions): ToolContext {
  const progressToken = ctx.mcpReq._meta?.progressToken;
  return {
    principal: options.principal,
    era: options.era,
    sessionId: options.sessionId ?? ctx.sessionId,
    requestId: options.requestId?.(),
    signal: ctx.mcpReq.signal,
    progress: async (progress, total, message) => {
      if (progressToken === undefined) return;
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: { progressToken, progress, total, message },
      });
    },
    log: async (level: ToolLogLevel, message: string) => {
      await ctx.mcpReq.log(level, message, tool.name);
    },
  };
}
