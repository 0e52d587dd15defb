'use strict';
// The files `npm run new:module` writes. `n` holds the forms of the name:
// kebab (files), snake (namespace, tool names, scopes), pascal (classes), title.
// Generated code follows docs/extending.md; `\${` is a template literal in the output.

exports.module = (n) => `import { Module } from '@nestjs/common';
import { ${n.pascal}Tools } from './${n.kebab}.tools';

/**
 * The ${n.snake} tools. Registered by its export line in
 * src/tools/tool-modules.ts: importing the module is the whole registration.
 */
@Module({ providers: [${n.pascal}Tools] })
export class ${n.pascal}Module {}
`;

exports.tools = (n) => `import { Tool, type ToolContext, ToolError, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';

const helloInput = z.object({
  name: z.string().trim().min(1).max(100).describe('Who to greet, e.g. "Ada"'),
});

const helloOutput = z.object({
  greeting: z.string(),
  caller: z.string().describe('The principal that called the tool'),
});

/**
 * ${n.title} tools. \`${n.snake}_hello\` is an example: replace it with real
 * tools (docs/extending.md walks through inputs, outputs, scopes, annotations,
 * errors, configuration and tests).
 */
@ToolProvider({ namespace: '${n.snake}' })
export class ${n.pascal}Tools {
  @Tool({
    name: '${n.snake}_hello',
    title: '${n.title}: hello',
    description: 'Example tool of the ${n.snake} module: greets someone by name and says who asked.',
    input: helloInput,
    output: helloOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['${n.snake}:read'],
  })
  hello({ name }: z.infer<typeof helloInput>, ctx: ToolContext): z.infer<typeof helloOutput> {
    if (name.toLowerCase() === 'nobody') throw new ToolError('"nobody" cannot be greeted: give a name');
    return { greeting: \`Hello, \${name}!\`, caller: ctx.principal.id };
  }
}
`;

exports.unitTest = (n) => `import { TOOL_METADATA, type ToolContext, ToolError, type ToolOptions } from '@portico/mcp-core';
import type { z } from 'zod';
import { ${n.pascal}Tools } from './${n.kebab}.tools';

const ctx = { principal: { id: 'token:test', kind: 'service', displayName: 'Test', scopes: ['*'], authMethod: 'bearer' } } as ToolContext;

/** The declared options of a tool method, as the registry reads them. */
const definitionOf = (method: keyof ${n.pascal}Tools) =>
  Reflect.getMetadata(TOOL_METADATA, ${n.pascal}Tools.prototype[method] as object) as ToolOptions & { input: z.ZodObject; output: z.ZodObject };

describe('${n.pascal}Tools', () => {
  const tools = new ${n.pascal}Tools();

  it('declares ${n.snake}_hello, read-only, behind the ${n.snake}:read scope', () => {
    expect(definitionOf('hello')).toMatchObject({
      name: '${n.snake}_hello',
      scopes: ['${n.snake}:read'],
      annotations: { readOnlyHint: true },
    });
  });

  it('greets by name and names the caller, as its output schema says', () => {
    const input = definitionOf('hello').input.parse({ name: '  Ada ' }) as { name: string };
    const result = tools.hello(input, ctx);

    expect(result).toEqual({ greeting: 'Hello, Ada!', caller: 'token:test' });
    expect(definitionOf('hello').output.safeParse(result).success).toBe(true);
  });

  it('rejects an empty name before the handler runs', () => {
    expect(definitionOf('hello').input.safeParse({ name: '   ' }).success).toBe(false);
  });

  it('refuses "nobody" with a message the model can act on', () => {
    expect(() => tools.hello({ name: 'nobody' }, ctx)).toThrow(ToolError);
    expect(() => tools.hello({ name: 'nobody' }, ctx)).toThrow('"nobody" cannot be greeted: give a name');
  });
});
`;

exports.e2eTest = (n) => `import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';
import { TestIdp } from '../support/test-idp';

/**
 * The ${n.snake} module as a client sees it, in the app as it boots (no module
 * passed in: its line in src/tools/tool-modules.ts registers it). OAuth
 * principals prove the scope: with ${n.snake}:read the tool is listed and
 * callable, without it the tool is not there.
 */
describe('${n.snake} tools (e2e)', () => {
  let idp: TestIdp;
  let portico: TestPortico;

  beforeAll(async () => {
    idp = await TestIdp.start();
    portico = await bootPortico({ OAUTH_ISSUERS: idp.issuer, OAUTH_JWKS_URL: idp.jwksUrl });
  });

  afterAll(async () => {
    await portico?.stop();
    await idp?.stop();
  });

  async function clientWith(scope: string): Promise<Client> {
    const token = await idp.mint(portico.mcpUrl, { sub: \`${n.snake}-\${scope.replace(/\\W/g, '-')}\`, scope });
    const client = new Client({ name: 'e2e-${n.kebab}', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { authProvider: { token: async () => token } }));
    return client;
  }

  it('advertises the ${n.snake}:read scope in the protected-resource metadata', async () => {
    const metadata = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', portico.mcpUrl))).json()) as { scopes_supported: string[] };

    expect(metadata.scopes_supported).toContain('${n.snake}:read');
  });

  it('lists ${n.snake}_hello to a principal with ${n.snake}:read, and runs it, audited', async () => {
    const client = await clientWith('${n.snake}:read');
    try {
      const { tools } = await client.listTools();
      expect(tools.find((t) => t.name === '${n.snake}_hello')).toMatchObject({ annotations: { readOnlyHint: true } });

      const before = new Date();
      const result = await client.callTool({ name: '${n.snake}_hello', arguments: { name: 'Ada' } });

      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ greeting: 'Hello, Ada!', caller: expect.stringMatching(/^oauth:/) });
      const rows = await portico.auditRows(\`kind = 'tool_call' AND tool = '${n.snake}_hello' AND occurred_at >= $1\`, [before]);
      expect(rows).toEqual([expect.objectContaining({ namespace: '${n.snake}', outcome: 'ok' })]);
    } finally {
      await client.close();
    }
  });

  it('hides ${n.snake}_hello from a principal without the scope', async () => {
    const client = await clientWith('unrelated:scope');
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('${n.snake}_hello');
    } finally {
      await client.close();
    }
  });

  it('shows the tool to a static token (every scope) and returns its ToolError as a tool result', async () => {
    const client = new Client({ name: 'e2e-${n.kebab}-static', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
    try {
      const result = await client.callTool({ name: '${n.snake}_hello', arguments: { name: 'nobody' } });

      expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: '"nobody" cannot be greeted: give a name' }] });
    } finally {
      await client.close();
    }
  });
});
`;
