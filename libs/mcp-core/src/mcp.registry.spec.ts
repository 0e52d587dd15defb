import { z } from 'zod';
import type { ToolOptions } from './decorators/tool.decorator';
import { ToolDefinitionError } from './tool.error';
import { McpRegistry } from './mcp.registry';

function tool(name: string, source = 'Tools.method', definition: Partial<ToolOptions> = {}) {
  return {
    name,
    namespace: 'test',
    source,
    definition: { name, description: `The ${name} tool.`, ...definition } as ToolOptions,
    handler: () => 'ok',
  };
}

describe('McpRegistry', () => {
  let registry: McpRegistry;
  beforeEach(() => {
    registry = new McpRegistry();
  });

  it('registers a tool and finds it by name, with an empty input schema by default', () => {
    registry.addTool(tool('echo_text'));

    const found = registry.getTool('echo_text');
    expect(found?.source).toBe('Tools.method');
    expect(found?.definition.input).toBeInstanceOf(z.ZodObject);
    expect(found?.definition.input.safeParse({}).success).toBe(true);
    expect(registry.getTool('other')).toBeUndefined();
  });

  it('rejects a duplicate name, naming both sources', () => {
    registry.addTool(tool('echo_text', 'A.x'));

    expect(() => registry.addTool(tool('echo_text', 'B.y'))).toThrow(ToolDefinitionError);
    expect(() => registry.addTool(tool('echo_text', 'B.y'))).toThrow(
      'Duplicate tool name "echo_text": declared by A.x and by B.y',
    );
    expect(registry.getTool('echo_text')?.source).toBe('A.x');
  });

  it.each([
    ['upper case', 'Echo_text'],
    ['a dash', 'echo-text'],
    ['a leading digit', '1echo'],
    ['a leading underscore', '_echo'],
    ['more than 64 characters', 'a'.repeat(65)],
    ['empty', ''],
    ['a dot', 'time.now'],
  ])('rejects a name with %s', (_, name) => {
    expect(() => registry.addTool(tool(name, 'Bad.tool'))).toThrow(ToolDefinitionError);
    expect(() => registry.addTool(tool(name, 'Bad.tool'))).toThrow(/Invalid tool name .* on Bad\.tool/);
    expect(registry.tools()).toEqual([]);
  });

  it('accepts a snake_case name of exactly 64 characters', () => {
    const name = 'a' + '_b3'.repeat(21);
    expect(name).toHaveLength(64);

    expect(registry.addTool(tool(name)).name).toBe(name);
  });

  it('rejects an invalid namespace', () => {
    expect(() => registry.addTool({ ...tool('echo_text'), namespace: 'Time' })).toThrow(/Invalid tool namespace "Time"/);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
  ])('rejects a %s description', (_, description) => {
    expect(() => registry.addTool(tool('echo_text', 'A.x', { description }))).toThrow(
      'Tool "echo_text" on A.x needs a description',
    );
  });

  it.each([
    ['a zod string', z.string()],
    ['a JSON Schema object', { type: 'object', properties: {} }],
  ])('rejects %s as input or output schema', (_, schema) => {
    expect(() => registry.addTool(tool('echo_text', 'A.x', { input: schema as never }))).toThrow(
      'Tool "echo_text" on A.x: input must be a zod object schema',
    );
    expect(() => registry.addTool(tool('echo_text', 'A.x', { output: schema as never }))).toThrow(
      'Tool "echo_text" on A.x: output must be a zod object schema',
    );
  });

  it('lists tools sorted by name', () => {
    for (const name of ['zeta', 'alpha_two', 'alpha', 'b_tool', 'alpha_1']) registry.addTool(tool(name));

    expect(registry.tools().map((t) => t.name)).toEqual(['alpha', 'alpha_1', 'alpha_two', 'b_tool', 'zeta']);
  });
});
