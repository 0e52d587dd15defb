import type { CreateMessageRequestParams, ElicitRequestFormParams, InputRequests } from '@modelcontextprotocol/server';
import {
  acceptedContent,
  inputRequired,
  inputResponse,
  type McpContext,
  Prompt,
  Tool,
  type ToolContext,
  ToolProvider,
} from '@portico/mcp-core';
import { z } from 'zod';

type RequestedSchema = ElicitRequestFormParams['requestedSchema'];

const askName: RequestedSchema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
const nameAnswer = z.object({ name: z.string() });

/** What a sampling answer said, as text. */
function sampledText(ctx: McpContext, key: string): string | undefined {
  const view = inputResponse(ctx.inputResponses, key);
  if (view.kind !== 'sampling') return undefined;
  const blocks = Array.isArray(view.result.content) ? view.result.content : [view.result.content];
  return blocks.map((b) => (b.type === 'text' ? b.text : `[${b.type}]`)).join('\n');
}

/** An elicitation answer of any action (accept, decline, cancel), as the fixtures report it. */
function elicited(ctx: McpContext, key: string): { action: string; content: Record<string, unknown> } | undefined {
  const view = inputResponse(ctx.inputResponses, key);
  return view.kind === 'elicit' ? { action: view.action, content: view.content ?? {} } : undefined;
}

function sampling(text: string, maxTokens: number): CreateMessageRequestParams {
  return { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens };
}

const confirmAnswer = z.object({ ok: z.boolean() });

/** Asks for a yes/no confirmation, with signed state naming the step. */
async function askConfirmation(ctx: McpContext) {
  return inputRequired({
    inputRequests: {
      confirm: inputRequired.elicit({
        message: 'Please confirm',
        requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
      }),
    },
    requestState: await ctx.mintState({ step: 'confirm' }),
  });
}

/**
 * The conformance suite's tools and prompt that ask the client for input:
 * elicitation, sampling and roots. Each returns `inputRequired(...)` and
 * reads the answers on the next round, so one handler serves both eras: the
 * modern client retries with `inputResponses` (SEP-2322), and in a legacy
 * session the SDK sends the requests to the client itself and re-enters.
 */
@ToolProvider({ namespace: 'conformance' })
export class ConformanceInputTools {
  @Tool({
    name: 'test_sampling',
    description: 'Asks the client to sample an LLM with the given prompt and returns the answer.',
    input: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
  })
  sampling({ prompt }: { prompt: string }, ctx: ToolContext) {
    const answer = sampledText(ctx, 'completion');
    if (answer === undefined) return inputRequired({ inputRequests: { completion: inputRequired.createMessage(sampling(prompt, 100)) } });
    return `LLM response: ${answer}`;
  }

  @Tool({
    name: 'test_elicitation',
    description: 'Asks the user for a username and an email address and reports the answer.',
    input: z.object({ message: z.string().describe('The message to show the user') }),
  })
  elicitation({ message }: { message: string }, ctx: ToolContext) {
    const answer = elicited(ctx, 'user_info');
    if (!answer) {
      const requestedSchema: RequestedSchema = {
        type: 'object',
        properties: {
          username: { type: 'string', description: "User's response" },
          email: { type: 'string', description: "User's email address" },
        },
        required: ['username', 'email'],
      };
      return inputRequired({ inputRequests: { user_info: inputRequired.elicit({ message, requestedSchema }) } });
    }
    return `User response: action=${answer.action}, content=${JSON.stringify(answer.content)}`;
  }

  @Tool({ name: 'test_elicitation_sep1034_defaults', description: 'Asks for a form whose every field has a default value (SEP-1034).' })
  elicitationDefaults(_input: unknown, ctx: ToolContext) {
    const answer = elicited(ctx, 'profile');
    if (!answer) {
      const requestedSchema: RequestedSchema = {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        },
      };
      return inputRequired({ inputRequests: { profile: inputRequired.elicit({ message: 'Please review and update the form fields with defaults', requestedSchema }) } });
    }
    return `Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content)}`;
  }

  @Tool({ name: 'test_elicitation_sep1330_enums', description: 'Asks for a form with every enum variant: untitled, titled, legacy titled, multi-select (SEP-1330).' })
  elicitationEnums(_input: unknown, ctx: ToolContext) {
    const answer = elicited(ctx, 'choices');
    if (!answer) {
      const requestedSchema = {
        type: 'object',
        properties: {
          untitledSingle: { type: 'string', description: 'Untitled single-select', enum: ['option1', 'option2', 'option3'] },
          titledSingle: {
            type: 'string',
            description: 'Titled single-select',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: {
            type: 'string',
            description: 'Legacy titled enum',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['Option One', 'Option Two', 'Option Three'],
          },
          untitledMulti: {
            type: 'array',
            description: 'Untitled multi-select',
            items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          },
          titledMulti: {
            type: 'array',
            description: 'Titled multi-select',
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
      } as RequestedSchema;
      return inputRequired({ inputRequests: { choices: inputRequired.elicit({ message: 'Choose your options', requestedSchema }) } });
    }
    return `Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content)}`;
  }

  @Tool({ name: 'test_input_required_result_elicitation', description: 'Asks for a name (one elicitation round), then greets.' })
  inputElicitation(_input: unknown, ctx: ToolContext) {
    const answer = acceptedContent(ctx.inputResponses, 'user_name', nameAnswer);
    if (!answer) return inputRequired({ inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: askName }) } });
    return `Hello, ${answer.name}!`;
  }

  @Tool({ name: 'test_input_required_result_sampling', description: 'Asks the client to sample an LLM (one round), then reports the answer.' })
  inputSampling(_input: unknown, ctx: ToolContext) {
    const answer = sampledText(ctx, 'capital_question');
    if (answer === undefined) {
      return inputRequired({ inputRequests: { capital_question: inputRequired.createMessage(sampling('What is the capital of France?', 100)) } });
    }
    return `The LLM answered: ${answer}`;
  }

  @Tool({ name: 'test_input_required_result_list_roots', description: "Asks for the client's roots (one round), then lists them." })
  inputListRoots(_input: unknown, ctx: ToolContext) {
    const view = inputResponse(ctx.inputResponses, 'client_roots');
    if (view.kind !== 'roots') return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    return `Client roots: ${view.roots.map((r) => r.uri).join(', ') || '(none)'}`;
  }

  @Tool({ name: 'test_input_required_result_request_state', description: 'Asks for a confirmation with signed requestState; answers state-ok when the state comes back intact.' })
  async inputRequestState(_input: unknown, ctx: ToolContext) {
    const state = ctx.requestState<{ step: string }>();
    const confirmed = acceptedContent(ctx.inputResponses, 'confirm', confirmAnswer);
    if (state?.step !== 'confirm' || !confirmed) return askConfirmation(ctx);
    return `state-ok: confirmed=${confirmed.ok}`;
  }

  @Tool({ name: 'test_input_required_result_multiple_inputs', description: 'Asks for an elicitation, a sampling and the roots in one round.' })
  async inputMultiple(_input: unknown, ctx: ToolContext) {
    const name = acceptedContent(ctx.inputResponses, 'user_name', nameAnswer);
    const greeting = sampledText(ctx, 'greeting');
    const roots = inputResponse(ctx.inputResponses, 'client_roots');
    if (!ctx.requestState() || !name || greeting === undefined || roots.kind !== 'roots') {
      return inputRequired({
        inputRequests: {
          user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: askName }),
          greeting: inputRequired.createMessage(sampling('Generate a greeting', 50)),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await ctx.mintState({ round: 1 }),
      });
    }
    return `name=${name.name}; greeting=${greeting}; roots=${roots.roots.length}`;
  }

  @Tool({ name: 'test_input_required_result_multi_round', description: 'Asks for a name, then a favourite colour (two rounds, state evolving), then answers.' })
  async inputMultiRound(_input: unknown, ctx: ToolContext) {
    const state = ctx.requestState<{ round: number; name?: string }>();
    if (state?.round === 1) {
      const step1 = acceptedContent(ctx.inputResponses, 'step1', nameAnswer);
      if (step1) {
        return inputRequired({
          inputRequests: {
            step2: inputRequired.elicit({
              message: 'Step 2: What is your favorite color?',
              requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
            }),
          },
          requestState: await ctx.mintState({ round: 2, name: step1.name }),
        });
      }
    }
    if (state?.round === 2) {
      const step2 = acceptedContent(ctx.inputResponses, 'step2', z.object({ color: z.string() }));
      if (step2) return `${state.name}'s favorite color is ${step2.color}`;
    }
    return inputRequired({
      inputRequests: { step1: inputRequired.elicit({ message: 'Step 1: What is your name?', requestedSchema: askName }) },
      requestState: await ctx.mintState({ round: 1 }),
    });
  }

  @Tool({ name: 'test_input_required_result_tampered_state', description: 'Asks for a confirmation with signed requestState; a tampered state is rejected.' })
  async inputTamperedState(_input: unknown, ctx: ToolContext) {
    const state = ctx.requestState<{ step: string }>();
    const confirmed = acceptedContent(ctx.inputResponses, 'confirm', confirmAnswer);
    if (state?.step === 'confirm' && confirmed) return 'The requestState verified';
    return askConfirmation(ctx);
  }

  @Tool({ name: 'test_input_required_result_capabilities', description: 'Asks only for the kinds of input the client declared it supports.' })
  inputCapabilities(_input: unknown, ctx: ToolContext) {
    const { elicitation, sampling: canSample, roots } = ctx.clientCapabilities;
    const answered = Object.keys(ctx.inputResponses ?? {});
    const wanted: InputRequests = {};
    if (elicitation) wanted.user_name = inputRequired.elicit({ message: 'What is your name?', requestedSchema: askName });
    if (canSample) wanted.greeting = inputRequired.createMessage(sampling('Generate a greeting', 50));
    if (roots) wanted.client_roots = inputRequired.listRoots();
    const missing = Object.fromEntries(Object.entries(wanted).filter(([key]) => !answered.includes(key)));
    if (Object.keys(missing).length) return inputRequired({ inputRequests: missing });
    return `Received ${answered.length} answer(s) for the declared capabilities: ${Object.keys(wanted).join(', ') || 'none'}`;
  }

  @Tool({
    name: 'test_missing_capability',
    description: 'Needs sampling: a modern-era client that did not declare it gets MissingRequiredClientCapability (-32021).',
  })
  missingCapability(_input: unknown, ctx: ToolContext) {
    const answer = sampledText(ctx, 'completion');
    if (answer === undefined) return inputRequired({ inputRequests: { completion: inputRequired.createMessage(sampling('Say hello', 20)) } });
    return `LLM response: ${answer}`;
  }

  @Tool({
    name: 'test_streaming_elicitation',
    description: 'Asks for a name; the modern-era response stream carries only the input-required result, never a server-to-client request.',
  })
  async streamingElicitation(_input: unknown, ctx: ToolContext) {
    await ctx.progress(0, 1, 'asking for a name');
    const answer = acceptedContent(ctx.inputResponses, 'user_name', nameAnswer);
    if (!answer) return inputRequired({ inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: askName }) } });
    return `Hello, ${answer.name}!`;
  }

  @Prompt({ name: 'test_input_required_result_prompt', description: 'A prompt that first asks the user which context to use.' })
  inputPrompt(_args: unknown, ctx: McpContext) {
    const answer = acceptedContent(ctx.inputResponses, 'user_context', z.object({ context: z.string() }));
    if (!answer) {
      return inputRequired({
        inputRequests: {
          user_context: inputRequired.elicit({
            message: 'What context should the prompt use?',
            requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
          }),
        },
      });
    }
    return `Answer using this context: ${answer.context}`;
  }
}
