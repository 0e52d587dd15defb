import type { GetPromptResult } from '@modelcontextprotocol/server';
import { Prompt, Resource, ResourceTemplate, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { PNG_BASE64 } from './fixture-media';

/** Offers completions that start with what the user typed so far. */
const startingWith = (candidates: string[]) => (value: string) => candidates.filter((c) => c.startsWith(value));

/** The conformance suite's resources, resource template and prompts, with completions. */
@ToolProvider({ namespace: 'conformance' })
export class ConformanceResources {
  @Resource({
    uri: 'test://static-text',
    name: 'static_text',
    title: 'Static text',
    description: 'A static text resource.',
    mimeType: 'text/plain',
  })
  staticText() {
    return 'This is the content of the static text resource.';
  }

  @Resource({
    uri: 'test://static-binary',
    name: 'static_binary',
    title: 'Static binary',
    description: 'A static binary resource (a 1×1 PNG).',
    mimeType: 'image/png',
  })
  staticBinary() {
    return Buffer.from(PNG_BASE64, 'base64');
  }

  @Resource({
    uri: 'test://watched-resource',
    name: 'watched_resource',
    title: 'Watched resource',
    description: 'A resource clients may subscribe to.',
    mimeType: 'text/plain',
  })
  watched() {
    return 'This is the content of the watched resource.';
  }

  @ResourceTemplate({
    uriTemplate: 'test://template/{id}/data',
    name: 'template_data',
    title: 'Data by id',
    description: 'JSON data for any id.',
    mimeType: 'application/json',
    complete: { id: startingWith(['123', '456', '789']) },
  })
  templateData(_uri: URL, { id }: Record<string, string>) {
    return JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` });
  }

  @Prompt({ name: 'test_simple_prompt', title: 'Simple prompt', description: 'A prompt without arguments.' })
  simplePrompt() {
    return 'This is a simple prompt for testing.';
  }

  @Prompt({
    name: 'test_prompt_with_arguments',
    title: 'Prompt with arguments',
    description: 'A prompt with two required arguments.',
    args: z.object({ arg1: z.string().describe('First test argument'), arg2: z.string().describe('Second test argument') }),
    complete: { arg1: startingWith(['paris', 'park', 'party', 'test', 'testing']), arg2: startingWith(['world', 'word']) },
  })
  promptWithArguments({ arg1, arg2 }: { arg1: string; arg2: string }) {
    return `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`;
  }

  @Prompt({
    name: 'test_prompt_with_embedded_resource',
    title: 'Prompt with an embedded resource',
    description: 'A prompt that embeds the resource it is given.',
    args: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
  })
  promptWithEmbeddedResource({ resourceUri }: { resourceUri: string }): GetPromptResult {
    return {
      messages: [
        {
          role: 'user',
          content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    };
  }

  @Prompt({ name: 'test_prompt_with_image', title: 'Prompt with an image', description: 'A prompt with an image.' })
  promptWithImage(): GetPromptResult {
    return {
      messages: [
        { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    };
  }
}
