import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  type ClientCapabilities,
  completable,
  createRequestStateCodec,
  type GetPromptResult,
  isInputRequiredResult,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  type RequestStateCodec,
  ResourceTemplate as SdkResourceTemplate,
  type ServerContext,
  type StandardSchemaWithJSON,
} from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import type { McpContext, ToolCallContext, ToolLogLevel } from './context';
import { isJsonSchemaInput, rawJsonSchema, type ToolInput } from './json-schema-input';
import { listPage } from './list-page';
import { MCP_CORE_OPTIONS, type McpCoreOptions } from './mcp-core.options';
import {
  McpRegistry,
  type RegisteredPrompt,
  type RegisteredResource,
  type RegisteredResourceTemplate,
  type RegisteredTool,
} from './mcp.registry';
import { hasScopes, type Principal } from './principal';
import { ToolError } from './tool.error';
import { ToolInvoker } from './tool.invoker';

export interface BuildServerOptions {
  principal: Principal;
  era: McpContext['era'];
  sessionId?: string;
  /** Reads the current HTTP request id (from async context) when a request starts. */
  requestId?: () => string | undefined;
}

/** One registry entry as registered on an SDK server, with the SDK's handle to take it off again. */
interface Registration {
  entry: object;
  remove(): void;
}

interface ServerState {
  options: BuildServerOptions;
  /** `resource:name`, `prompt:name` registered on this server; created with the first (most servers have none, and an empty Map costs ~180 B). */
  registered?: Map<string, Registration>;
  /** The tools the principal may call, as {@link McpServerBuilder.toolIds} (a change is announced as `list_changed`). */
  tools?: string;
  /** Resource URIs the client subscribed to (legacy `resources/subscribe`); created with the first. */
  subscriptions?: Set<string>;
  /** Tool, resource and prompt handlers running now. */
  running: number;
}

const DEFAULT_PAGE_SIZE = 100;

/**
 * Builds SDK `McpServer`s from the {@link McpRegistry}, holding what a
 * principal may use: modern traffic gets one per request, a legacy session
 * one per session. The SDK speaks the protocol; the builder adds what it
 * leaves to the host: scope filtering, paginated lists, signed request state,
 * and the glue from decorated methods to handlers.
 */
@Injectable()
export class McpServerBuilder {
  private readonly logger = new Logger('McpServerBuilder');
  private readonly schemas = new WeakMap<ToolInput, StandardSchemaWithJSON>();
  private readonly promptArgs = new WeakMap<RegisteredPrompt, z.ZodObject>();
  private readonly states = new WeakMap<McpServer, ServerState>();
  /** A short id per registry tool entry, for {@link ServerState.tools}. */
  private readonly toolIds = new WeakMap<RegisteredTool, number>();
  private nextToolId = 1;
  /** Per JSON input schema: whether it declares SEP-2243 `x-mcp-header` parameters. */
  private readonly headerDeclarations = new WeakMap<object, boolean>();
  private readonly codec: RequestStateCodec<object>;
  /** What every server is built with: the same for all, so made once (see {@link serverOptions}). */
  private shared?: { info: ConstructorParameters<typeof McpServer>[0]; options: ConstructorParameters<typeof McpServer>[1] };

  constructor(
    private readonly registry: McpRegistry,
    private readonly invoker: ToolInvoker,
    @Inject(MCP_CORE_OPTIONS) private readonly core: McpCoreOptions,
  ) {
    this.codec = createRequestStateCodec<object>({
      key: core.requestState.key,
      ttlSeconds: core.requestState.ttlSeconds,
      // The spec's user binding: a requestState minted for one principal is refused when another echoes it.
      bind: (ctx) => `${ctx.mcpReq.method}\0${ctx.http?.authInfo?.clientId ?? ''}`,
    });
  }

  build(options: BuildServerOptions): McpServer {
    const { info, options: serverOptions } = this.serverOptions();
    const server = new McpServer(info, serverOptions);
    const state: ServerState = { options, running: 0 };
    this.states.set(server, state);
    this.installToolCall(server, state);
    this.sync(server);
    server.server.setRequestHandler('resources/subscribe', (req) => {
      (state.subscriptions ??= new Set()).add(req.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', (req) => {
      state.subscriptions?.delete(req.params.uri);
      return {};
    });
    return server;
  }

  /**
   * The server info and options, made on first use and shared by every
   * server: a legacy session keeps its server for its whole life, and the
   * SDK copies what it changes (the capabilities) and only reads the rest.
   */
  private serverOptions(): NonNullable<typeof this.shared> {
    if (this.shared) return this.shared;
    const { name, title, version, instructions } = this.core.server;
    const hint = this.core.listCacheHint ?? { ttlMs: 60_000, cacheScope: 'private' as const };
    return (this.shared = {
      info: { name, title, version },
      options: {
        instructions,
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          prompts: { listChanged: true },
          completions: {},
          logging: {},
        },
        requestState: { verify: (state, ctx) => this.codec.verify(state, ctx) },
        cacheHints: {
          'server/discover': hint,
          'tools/list': hint,
          'prompts/list': hint,
          'resources/list': hint,
          'resources/templates/list': hint,
        },
      },
    });
  }

  /**
   * Brings `server` in line with the registry after runtime changes: what
   * the registry gained (and the principal may use) is registered, what it
   * lost is removed. On a connected legacy session the SDK then sends the
   * `notifications/*_list_changed` of each change. Call it for every live
   * session server when {@link McpRegistry.onChange} fires.
   */
  sync(server: McpServer): void {
    const state = this.states.get(server);
    if (!state) return;
    const { principal } = state.options;
    const allowed = (scopes?: string[]) => hasScopes(principal, scopes ?? []);
    const wanted = new Map<string, { entry: object; register: () => Registration['remove'] }>();
    const tools = this.visibleTools(principal);
    if (tools !== state.tools) {
      // The SDK announces registrations itself; tools are dispatched here (installToolCall), so their changes are announced here.
      if (state.tools !== undefined && server.isConnected()) server.sendToolListChanged();
      state.tools = tools;
    }
    for (const resource of this.registry.resources()) {
      if (allowed(resource.definition.scopes)) {
        wanted.set(`resource:${resource.name}`, { entry: resource, register: () => this.registerResource(server, resource, state.options) });
      }
    }
    for (const template of this.registry.resourceTemplates()) {
      if (allowed(template.definition.scopes)) {
        wanted.set(`resource:${template.name}`, { entry: template, register: () => this.registerTemplate(server, template, state.options) });
      }
    }
    for (const prompt of this.registry.prompts()) {
      if (allowed(prompt.definition.scopes)) wanted.set(`prompt:${prompt.name}`, { entry: prompt, register: () => this.registerPrompt(server, prompt, state.options) });
    }
    // Removed, or replaced by another entry of the same name: take it off first.
    for (const [key, registration] of state.registered ?? []) {
      if (wanted.get(key)?.entry !== registration.entry) {
        registration.remove();
        state.registered!.delete(key);
      }
    }
    for (const [key, { entry, register }] of wanted) {
      if (!state.registered?.has(key)) (state.registered ??= new Map()).set(key, { entry, remove: register() });
    }
    this.installLists(server, principal);
  }

  /**
   * Serves `server`'s next requests as `principal`: the session's own
   * principal (same id) presenting a newer credential, such as a refreshed
   * OAuth token. When its scopes differ from before (a step-up, or a token
   * granted less), what the server offers follows them, and a connected
   * legacy session hears `list_changed`.
   */
  usePrincipal(server: McpServer, principal: Principal): void {
    const state = this.states.get(server);
    if (!state || state.options.principal === principal) return;
    const before = state.options.principal.scopes;
    state.options.principal = principal;
    const same = before.length === principal.scopes.length && before.every((s) => principal.scopes.includes(s));
    if (!same) this.sync(server);
  }

  /**
   * True while one of `server`'s tool, resource or prompt handlers runs: a
   * handler outlives its exchange when the client goes away mid-call, and
   * such a server must not serve another request.
   */
  busy(server: McpServer): boolean {
    return (this.states.get(server)?.running ?? 0) > 0;
  }

  /** Sends `notifications/resources/updated` for `uri` when the session behind `server` subscribed to it. */
  async notifyResourceUpdated(server: McpServer, uri: string): Promise<void> {
    if (this.states.get(server)?.subscriptions?.has(uri) && server.isConnected()) {
      await server.server.sendResourceUpdated({ uri });
    }
  }

  /**
   * `tools/call` for every tool of the registry the principal may use, in
   * place of one SDK registration per tool and server: a legacy session kept
   * a registration object and half a dozen closures per tool (about 1.5 KB
   * each), and building a server registered them all. What the SDK's own
   * handler adds around a tool is kept: unknown or forbidden tools are
   * "not found", input goes to the {@link ToolInvoker} (which validates it),
   * a declared output schema needs structured content, and the result is
   * projected for the session's wire revision.
   */
  private installToolCall(server: McpServer, state: ServerState): void {
    const usable = (name: string) => {
      const tool = this.registry.getTool(name);
      return tool && hasScopes(state.options.principal, tool.definition.scopes ?? []) ? tool : undefined;
    };
    // The SDK's modern HTTP entry checks SEP-2243 `Mcp-Param-*` headers against the tool's
    // `x-mcp-header` declarations before dispatch, reading the schema through this @internal hook,
    // which answers from the SDK's own registrations (Portico makes none). The conformance
    // suite's http-custom-header-server-validation scenario fails if this stops being consulted.
    // A schema without any `x-mcp-header` key has nothing to check: answering undefined spares the SDK's walk over it per request.
    (server as unknown as { toolInputSchemaJson(name: string): unknown }).toolInputSchemaJson = (name) => {
      const tool = usable(name);
      if (!tool) return undefined;
      const schema = this.jsonSchema(tool.definition.input, 'input');
      return this.declaresHeaders(schema) ? schema : undefined;
    };
    server.server.setRequestHandler('tools/call', async (request, ctx) => {
      const { name } = request.params;
      const tool = usable(name);
      if (!tool) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
      }
      try {
        const result = await this.track(server, () => this.invoker.invoke(tool, request.params.arguments ?? {}, this.toolContext(server, tool, ctx, state.options)));
        if (isInputRequiredResult(result)) return result;
        const output = tool.definition.output && this.jsonSchema(tool.definition.output, 'output');
        if (output && !result.isError && result.structuredContent === undefined) {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Output validation error: Tool ${name} has an output schema but no structured content was provided`);
        }
        return server.server.projectCallToolResult(result, output);
      } catch (error) {
        if (error instanceof ProtocolError && error.code === ProtocolErrorCode.UrlElicitationRequired) throw error;
        return { content: [{ type: 'text' as const, text: error instanceof Error ? error.message : String(error) }], isError: true };
      }
    });
  }

  /** Whether a tool's JSON input schema has an `x-mcp-header` key anywhere (SEP-2243); computed once per schema. */
  private declaresHeaders(schema: object): boolean {
    let declares = this.headerDeclarations.get(schema);
    if (declares === undefined) this.headerDeclarations.set(schema, (declares = JSON.stringify(schema).includes('"x-mcp-header"')));
    return declares;
  }

  /** The registry tools `principal` may use, as a string of entry ids (changes when one is added, removed or replaced). */
  private visibleTools(principal: Principal): string {
    let ids = '';
    for (const tool of this.registry.tools()) {
      if (!hasScopes(principal, tool.definition.scopes ?? [])) continue;
      let id = this.toolIds.get(tool);
      if (id === undefined) this.toolIds.set(tool, (id = this.nextToolId++));
      ids += `${id},`;
    }
    return ids;
  }

  private registerResource(server: McpServer, resource: RegisteredResource, options: BuildServerOptions): () => void {
    const { uri, title, description, mimeType } = resource.definition;
    const handle = server.registerResource(resource.name, uri, { title, description, mimeType }, (url: URL, ctx: ServerContext) =>
      this.run(server, resource, ctx, options, (c) => resource.handler(url, c)).then((v) => resourceResult(v, url, mimeType)),
    );
    return () => handle.remove();
  }

  private registerTemplate(server: McpServer, template: RegisteredResourceTemplate, options: BuildServerOptions): () => void {
    const { uriTemplate, title, description, mimeType, complete } = template.definition;
    const completers = Object.fromEntries(
      Object.entries(complete ?? {}).map(([variable, fn]) => [
        variable,
        (value: string, context?: { arguments?: Record<string, string> }) => fn(value, { arguments: context?.arguments ?? {} }),
      ]),
    );
    const handle = server.registerResource(
      template.name,
      new SdkResourceTemplate(uriTemplate, { list: undefined, complete: completers }),
      { title, description, mimeType },
      (url: URL, variables: Record<string, string | string[]>, ctx: ServerContext) =>
        this.run(server, template, ctx, options, (c) => template.handler(url, flatten(variables), c)).then((v) => resourceResult(v, url, mimeType)),
    );
    return () => handle.remove();
  }

  private registerPrompt(server: McpServer, prompt: RegisteredPrompt, options: BuildServerOptions): () => void {
    const { title, description } = prompt.definition;
    const handle = server.registerPrompt(
      prompt.name,
      { title, description, argsSchema: this.promptArgsSchema(prompt) },
      (args: unknown, ctx: ServerContext) => this.run(server, prompt, ctx, options, (c) => prompt.handler(args, c)).then(promptResult),
    );
    return () => handle.remove();
  }

  /**
   * Paginated, scope-filtered lists straight from the registry (the SDK's own
   * list handlers return everything in one page).
   */
  private installLists(server: McpServer, principal: Principal): void {
    const pageSize = this.core.pageSize ?? DEFAULT_PAGE_SIZE;
    const allowed = <T extends { definition: { scopes?: string[] } }>(items: T[]) =>
      items.filter((i) => hasScopes(principal, i.definition.scopes ?? []));
    server.server.setRequestHandler('tools/list', (req) => {
      const { items, nextCursor } = listPage(allowed(this.registry.tools()), req.params?.cursor, pageSize);
      return { tools: items.map((t) => this.toolDefinition(t)), nextCursor };
    });
    server.server.setRequestHandler('resources/list', (req) => {
      const { items, nextCursor } = listPage(allowed(this.registry.resources()), req.params?.cursor, pageSize);
      return {
        resources: items.map(({ name, definition: { uri, title, description, mimeType } }) => ({ uri, name, title, description, mimeType })),
        nextCursor,
      };
    });
    server.server.setRequestHandler('resources/templates/list', (req) => {
      const { items, nextCursor } = listPage(allowed(this.registry.resourceTemplates()), req.params?.cursor, pageSize);
      return {
        resourceTemplates: items.map(({ name, definition: { uriTemplate, title, description, mimeType } }) => ({
          uriTemplate,
          name,
          title,
          description,
          mimeType,
        })),
        nextCursor,
      };
    });
    server.server.setRequestHandler('prompts/list', (req) => {
      const { items, nextCursor } = listPage(allowed(this.registry.prompts()), req.params?.cursor, pageSize);
      return { prompts: items.map((p) => promptDefinition(p)), nextCursor };
    });
  }

  private toolDefinition(tool: RegisteredTool) {
    const { title, description, input, output, annotations } = tool.definition;
    return {
      name: tool.name,
      title,
      description,
      inputSchema: this.jsonSchema(input, 'input'),
      ...(output && { outputSchema: this.jsonSchema(output, 'output') }),
      ...(annotations && { annotations }),
    };
  }

  private jsonSchema(schema: ToolInput, io: 'input' | 'output'): { type: 'object'; [key: string]: unknown } {
    if (isJsonSchemaInput(schema)) return rawJsonSchema(schema);
    const std = this.advertise(schema)['~standard'] as unknown as {
      jsonSchema: Record<'input' | 'output', (o: { target: string }) => { type: 'object'; [key: string]: unknown }>;
    };
    return std.jsonSchema[io]({ target: 'draft-2020-12' });
  }

  /**
   * The schema as the SDK sees it: the zod schema's JSON Schema (or the raw
   * JSON Schema input) for the wire, and a validator that accepts anything, because the
   * {@link ToolInvoker} validates so that rejected input is audited and the
   * message is shaped for the model. Cached per schema.
   */
  private advertise(schema: ToolInput): StandardSchemaWithJSON {
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
            input: (o: { target: string }) => (cache[`i${o.target}`] ??= std.jsonSchema.input(o as never) as Record<string, unknown>),
            output: (o: { target: string }) => (cache[`o${o.target}`] ??= std.jsonSchema.output(o as never) as Record<string, unknown>),
          },
        },
      } as unknown as StandardSchemaWithJSON;
      this.schemas.set(schema, advertised);
    }
    return advertised;
  }

  /** The prompt's argument schema with its completers attached (the SDK's `completable`); built once per prompt. */
  private promptArgsSchema(prompt: RegisteredPrompt): z.ZodObject {
    let schema = this.promptArgs.get(prompt);
    if (!schema) {
      const { args, complete } = prompt.definition;
      schema = z.object(
        Object.fromEntries(
          Object.entries(args.shape).map(([key, field]) => {
            const fn = complete?.[key];
            if (!fn) return [key, field];
            return [
              key,
              completable((field as z.ZodType).clone(), (value: unknown, context?: { arguments?: Record<string, string> }) =>
                fn(String(value ?? ''), { arguments: context?.arguments ?? {} }),
              ),
            ];
          }),
        ),
      );
      this.promptArgs.set(prompt, schema);
    }
    return schema;
  }

  private context(server: McpServer, ctx: ServerContext, options: BuildServerOptions): McpContext {
    return {
      principal: options.principal,
      era: options.era,
      sessionId: options.sessionId ?? ctx.sessionId,
      requestId: options.requestId?.(),
      signal: ctx.mcpReq.signal,
      ...clientIdentity(server, ctx, options.era),
      clientCapabilities: clientCapabilities(server, ctx, options.era),
      inputResponses: ctx.mcpReq.inputResponses,
      requestState: <T>() => ctx.mcpReq.requestState<T>(),
      mintState: (state: object) => this.codec.mint(state, ctx),
      mcp: ctx,
    };
  }

  private toolContext(server: McpServer, tool: RegisteredTool, ctx: ServerContext, options: BuildServerOptions): ToolCallContext {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    return {
      ...this.context(server, ctx, options),
      progress: async (progress, total, message) => {
        if (progressToken === undefined) return;
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total, message } });
      },
      log: async (level: ToolLogLevel, message: string) => {
        await ctx.mcpReq.log(level, message, tool.name);
      },
    };
  }

  /** Counts `call` among `server`'s running handlers while it runs (see {@link busy}). */
  private async track<T>(server: McpServer, call: () => T | Promise<T>): Promise<T> {
    const state = this.states.get(server)!;
    state.running++;
    try {
      return await call();
    } finally {
      state.running--;
    }
  }

  /** Runs a resource or prompt handler; a ToolError keeps its message, anything else becomes a generic internal error. */
  private async run(
    server: McpServer,
    entry: { name: string; source: string },
    ctx: ServerContext,
    options: BuildServerOptions,
    call: (c: McpContext) => unknown,
  ): Promise<unknown> {
    const c = this.context(server, ctx, options);
    try {
      return await this.track(server, () => call(c));
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      if (e instanceof ToolError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, e.message);
      this.logger.error({ err: e, handler: entry.source, requestId: c.requestId }, 'handler failed');
      throw new ProtocolError(ProtocolErrorCode.InternalError, `${entry.name} failed with an internal error`);
    }
  }
}

/** The modern era declares capabilities per request; a legacy session declared them at `initialize`. */
function clientCapabilities(server: McpServer, ctx: ServerContext, era: McpContext['era']): ClientCapabilities {
  if (era === 'modern') return ((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined) ?? {};
  // Deprecated for the modern era only; it is the one accessor for what a legacy session declared.
  return server.server.getClientCapabilities() ?? {};
}

/** Who the client says it is, and the revision it speaks: from the request envelope (modern) or the session's handshake (legacy). */
function clientIdentity(server: McpServer, ctx: ServerContext, era: McpContext['era']): Pick<McpContext, 'client' | 'protocolVersion'> {
  if (era === 'modern') {
    const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
    const info = envelope?.[CLIENT_INFO_META_KEY] as { name?: string; version?: string } | undefined;
    return {
      client: info?.name ? { name: info.name, version: info.version } : undefined,
      protocolVersion: envelope?.[PROTOCOL_VERSION_META_KEY] as string | undefined,
    };
  }
  const info = server.server.getClientVersion();
  return { client: info ? { name: info.name, version: info.version } : undefined, protocolVersion: server.server.getNegotiatedProtocolVersion() };
}

function flatten(variables: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
}

function resourceResult(value: unknown, uri: URL, mimeType?: string): ReadResourceResult {
  if (isInputRequiredResult(value)) return value as unknown as ReadResourceResult;
  if (typeof value === 'string') return { contents: [{ uri: uri.href, mimeType, text: value }] };
  if (value instanceof Uint8Array) return { contents: [{ uri: uri.href, mimeType, blob: Buffer.from(value).toString('base64') }] };
  return value as ReadResourceResult;
}

function promptResult(value: unknown): GetPromptResult {
  if (isInputRequiredResult(value)) return value as unknown as GetPromptResult;
  if (typeof value === 'string') return { messages: [{ role: 'user', content: { type: 'text', text: value } }] };
  return value as GetPromptResult;
}

function promptDefinition(prompt: RegisteredPrompt) {
  const { title, description, args } = prompt.definition;
  const argumentsList = Object.entries(args.shape).map(([name, field]) => {
    const schema = field as z.ZodType;
    return { name, description: schema.description, required: !schema.safeParse(undefined).success };
  });
  return { name: prompt.name, title, description, ...(argumentsList.length && { arguments: argumentsList }) };
}
