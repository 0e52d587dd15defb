import { isJsonSchemaInput, jsonSchemaInput, rawJsonSchema } from './json-schema-input';
import { ToolDefinitionError } from './tool.error';

describe('jsonSchemaInput', () => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object' as const,
    properties: { phone: { type: 'string' }, email: { type: 'string' } },
    anyOf: [{ required: ['phone'] }, { required: ['email'] }],
    additionalProperties: false,
  };

  it('keeps the schema as declared (a copy: later edits of the original do not leak in)', () => {
    const original = structuredClone(schema);
    const input = jsonSchemaInput(original);
    original.properties.phone.type = 'number';

    expect(rawJsonSchema(input)).toEqual(schema);
    expect(input['~standard'].jsonSchema.input({ target: 'draft-2020-12' })).toEqual(schema);
    expect(isJsonSchemaInput(input)).toBe(true);
    expect(isJsonSchemaInput(schema)).toBe(false);
  });

  it('validates with every 2020-12 keyword in force', () => {
    const { validate } = jsonSchemaInput(schema)['~standard'];

    expect(validate({ email: 'a@example.com' })).toEqual({ value: { email: 'a@example.com' } });
    expect(validate({})).toMatchObject({ issues: [{ message: expect.stringContaining('anyOf') }] });
    expect(validate({ phone: '1', fax: '2' })).toMatchObject({ issues: [{ message: expect.stringContaining('additional properties') }] });
  });

  it('refuses a root that is not an object schema, and a schema that does not compile, at declaration', () => {
    expect(() => jsonSchemaInput({ type: 'string' } as never)).toThrow(ToolDefinitionError);
    expect(() => jsonSchemaInput({ type: 'object', properties: { a: { type: 'no-such-type' } } })).toThrow(/invalid JSON Schema/);
  });
});
