import { z } from 'zod';
import type { ToolOptions } from './decorators/tool.decorator';
import { jsonSchemaInput } from './json-schema-input';
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
    expect((found?.definition.input as z.ZodObject).safeParse({}).success).toBe(true);
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

  it.each([
    ['a zero limit', { limit: 0, windowMs: 1000 }],
    ['a fractional window', { limit: 5, windowMs: 0.5 }],
    ['a missing window', { limit: 5 }],
  ])('rejects a rateLimit with %s', (_, rateLimit) => {
    const entry = tool('echo_text', 'Bad.limit');
    expect(() => registry.addTool({ ...entry, definition: { ...entry.definition, rateLimit: rateLimit as never } })).toThrow(
      'Tool "echo_text" on Bad.limit: rateLimit needs a positive integer limit and windowMs',
    );
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

  it('accepts a raw JSON Schema input made with jsonSchemaInput', () => {
    const input = jsonSchemaInput({ type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });

    expect(registry.addTool(tool('search', 'A.x', { input })).definition.input).toBe(input);
  });

  it('removes tools, resources and prompts, and tells listeners about additions and removals', () => {
    const heard: string[] = [];
    const stop = registry.onChange((kind) => heard.push(kind));
    registry.addTool(tool('echo_text'));
    registry.addResource({ name: 'readme', namespace: 'test', source: 'R.readme', definition: { name: 'readme', uri: 'test://readme', description: 'Readme.' }, handler: () => 'x' });
    registry.addPrompt({ name: 'greet', namespace: 'test', source: 'P.greet', definition: { name: 'greet', description: 'Greets.' }, handler: () => 'x' });

    expect(registry.removeTool('echo_text')).toBe(true);
    expect(registry.removeResource('readme')).toBe(true);
    expect(registry.removePrompt('greet')).toBe(true);
    expect(registry.removeTool('echo_text')).toBe(false);

    expect(heard).toEqual(['tools', 'resources', 'prompts', 'tools', 'resources', 'prompts']);
    expect([registry.tools(), registry.resources(), registry.prompts()]).toEqual([[], [], []]);
    expect(registry.getResource('readme')).toBeUndefined();
    stop();
    registry.addTool(tool('echo_text'));
    expect(heard).toHaveLength(6);
  });
});
