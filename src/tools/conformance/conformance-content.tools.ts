import type { CallToolResult } from '@modelcontextprotocol/server';
import { jsonSchemaInput, Tool, type ToolContext, ToolError, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { PNG_BASE64, pause, WAV_BASE64 } from './fixture-media';

const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

/**
 * The conformance suite's tools that return content and notifications:
 * every content block type, an error result, log messages, progress, a
 * JSON Schema 2020-12 input, a mid-call stream close, and an
 * `x-mcp-header` parameter.
 */
@ToolProvider({ namespace: 'conformance' })
export class ConformanceContentTools {
  @Tool({ name: 'test_simple_text', description: 'Returns one text block.', annotations: readOnly })
  simpleText() {
    return 'This is a simple text response for testing.';
  }

  @Tool({ name: 'test_image_content', description: 'Returns one image block (a 1×1 PNG).', annotations: readOnly })
  imageContent(): CallToolResult {
    return { content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }] };
  }

  @Tool({ name: 'test_audio_content', description: 'Returns one audio block (a short WAV).', annotations: readOnly })
  audioContent(): CallToolResult {
    return { content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }] };
  }

  @Tool({ name: 'test_embedded_resource', description: 'Returns one embedded text resource.', annotations: readOnly })
  embeddedResource(): CallToolResult {
    return {
      content: [
        {
          type: 'resource',
          resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
        },
      ],
    };
  }

  @Tool({ name: 'test_multiple_content_types', description: 'Returns a text, an image and an embedded resource block.', annotations: readOnly })
  multipleContentTypes(): CallToolResult {
    return {
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) },
        },
      ],
    };
  }

  @Tool({ name: 'test_error_handling', description: 'Always fails with a tool error (isError: true).', annotations: readOnly })
  errorHandling(): never {
    throw new ToolError('This tool intentionally returns an error for testing');
  }

  @Tool({
    name: 'test_tool_with_logging',
    description: 'Sends three info log messages about 50 ms apart while it runs.',
    annotations: readOnly,
  })
  async withLogging(_input: unknown, ctx: ToolContext) {
    await ctx.log('info', 'Tool execution started');
    await pause(50, ctx.signal);
    await ctx.log('info', 'Tool processing data');
    await pause(50, ctx.signal);
    await ctx.log('info', 'Tool execution completed');
    return 'Tool with logging executed successfully';
  }

  @Tool({
    name: 'test_logging_tool',
    description: 'Logs one info message; a modern-era client that set no log level must not receive it.',
    annotations: readOnly,
  })
  async loggingTool(_input: unknown, ctx: ToolContext) {
    await ctx.log('info', 'test_logging_tool ran');
    return 'Logged one message at info level';
  }

  @Tool({
    name: 'test_tool_with_progress',
    description: 'Reports progress 0, 50 and 100 of 100 about 50 ms apart when the caller sent a progress token.',
    annotations: readOnly,
  })
  async withProgress(_input: unknown, ctx: ToolContext) {
    await ctx.progress(0, 100, 'started');
    await pause(50, ctx.signal);
    await ctx.progress(50, 100, 'halfway');
    await pause(50, ctx.signal);
    await ctx.progress(100, 100, 'done');
    return 'Tool with progress completed';
  }

  @Tool({
    name: 'test_reconnection',
    description:
      'Closes its SSE response stream right after it starts (legacy sessions with an event store), then answers; the client gets the result by resuming with Last-Event-ID.',
    annotations: readOnly,
  })
  async reconnection(_input: unknown, ctx: ToolContext) {
    ctx.mcp.http?.closeSSE?.();
    await pause(200, ctx.signal);
    return 'Reconnection test completed: the result was delivered after the stream was closed';
  }

  @Tool({
    name: 'json_schema_2020_12_tool',
    description: 'Takes a JSON Schema 2020-12 input ($defs with $anchor, $ref, allOf/anyOf, if/then/else), listed exactly as declared.',
    annotations: readOnly,
    input: jsonSchemaInput({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: {
          $anchor: 'addressDef',
          type: 'object',
          properties: { street: { type: 'string' }, city: { type: 'string' } },
        },
      },
      properties: {
        name: { type: 'string' },
        address: { $ref: '#/$defs/address' },
        contactMethod: { type: 'string', enum: ['phone', 'email'] },
        phone: { type: 'string' },
        email: { type: 'string' },
      },
      allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
      if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
      then: { required: ['phone'] },
      else: { required: ['email'] },
      additionalProperties: false,
    }),
  })
  jsonSchema202012(input: Record<string, unknown>) {
    return `Received: ${JSON.stringify(input)}`;
  }

  @Tool({
    name: 'test_header_param',
    description: 'Echoes a parameter that clients also send as the Mcp-Param-Region header (SEP-2243 x-mcp-header).',
    annotations: readOnly,
    input: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }).describe('Any region name; mirrored into Mcp-Param-Region') }),
  })
  headerParam({ region }: { region: string }) {
    return `region=${region}`;
  }
}
