import { fromJsonSchema, type StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ToolDefinitionError } from './tool.error';

/** A JSON Schema object for a tool's input: `type: 'object'` at the root, any 2020-12 keyword below it. */
export type JsonSchemaObject = { type: 'object'; [keyword: string]: unknown };

const JSON_SCHEMA_INPUT = Symbol('portico:json-schema-input');

/**
 * A tool input given as a raw JSON Schema (see {@link jsonSchemaInput}): a
 * Standard Schema whose wire form is that schema, unchanged.
 */
export type JsonSchemaInput = StandardSchemaWithJSON<Record<string, unknown>, Record<string, unknown>> & {
  readonly [JSON_SCHEMA_INPUT]: JsonSchemaObject;
};

/**
 * Declares a tool's input as a raw JSON Schema instead of a zod object, for
 * schemas zod cannot express or would rewrite: `$defs` with `$anchor`,
 * `allOf`/`anyOf`, `if`/`then`/`else`, a `$schema` dialect declaration.
 * `tools/list` shows the schema exactly as given; arguments are validated
 * against it (JSON Schema 2020-12, by the SDK's Ajv validator) before the
 * handler runs, and the handler gets them as parsed JSON.
 *
 * The schema is compiled here, so an invalid schema fails at boot.
 *
 * @example
 * ```ts
 * @Tool({ name: 'create_contact', description: '…', input: jsonSchemaInput({ type: 'object', properties: { … }, oneOf: [ … ] }) })
 * ```
 */
export function jsonSchemaInput(schema: JsonSchemaObject): JsonSchemaInput {
  if (schema === null || typeof schema !== 'object' || schema.type !== 'object') {
    throw new ToolDefinitionError('jsonSchemaInput: a tool input schema needs `type: "object"` at its root');
  }
  const frozen = structuredClone(schema);
  let standard: StandardSchemaWithJSON;
  try {
    standard = fromJsonSchema(frozen);
  } catch (e) {
    throw new ToolDefinitionError(`jsonSchemaInput: invalid JSON Schema: ${(e as Error).message}`);
  }
  return Object.assign(standard, { [JSON_SCHEMA_INPUT]: frozen }) as unknown as JsonSchemaInput;
}

/** True for an input made by {@link jsonSchemaInput}. */
export function isJsonSchemaInput(value: unknown): value is JsonSchemaInput {
  return typeof value === 'object' && value !== null && JSON_SCHEMA_INPUT in value;
}

/** The raw schema behind a {@link jsonSchemaInput} (a copy made at declaration). */
export function rawJsonSchema(input: JsonSchemaInput): JsonSchemaObject {
  return input[JSON_SCHEMA_INPUT];
}

/** What `@Tool({ input })` accepts. */
export type ToolInput = z.ZodObject | JsonSchemaInput;

/**
 * The JSON Schema of a tool input, whichever way it was declared (zod's
 * `.meta()` keys, such as `sensitive: true`, are kept). Computed per call: cache it.
 */
export function inputJsonSchema(input: ToolInput): JsonSchemaObject {
  if (isJsonSchemaInput(input)) return rawJsonSchema(input);
  return z.toJSONSchema(input, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchemaObject;
}
