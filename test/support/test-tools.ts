import { Module } from '@nestjs/common';
import { acceptedContent, inputRequired, inputResponse, Tool, type ToolContext, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';

/** What the probe tools observed, for assertions. */
export const probe = { cancelled: 0, started: 0 };

const nameAnswer = z.object({ name: z.string().min(1) });
const confirmAnswer = z.object({ confirm: z.boolean() });

/** Tools written the way a team would, to drive protocol features from e2e tests. */
@ToolProvider({ namespace: 'probe' })
export class ProbeTools {
  @Tool({
    name: 'greet_user',
    description: 'Asks the user for their name, then for confirmation, then greets them.',
  })
  async greet(_input: unknown, ctx: ToolContext) {
    const state = ctx.requestState<{ name: string }>();
    if (!state) {
      const answer = acceptedContent(ctx.inputResponses, 'name', nameAnswer);
      if (!answer) {
        return inputRequired({
          inputRequests: {
            name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: nameAnswer }),
          },
        });
      }
      // Round two proved the name: carry it, signed, into round three.
      return inputRequired({
        inputRequests: {
          confirm: inputRequired.elicit({ message: `Greet ${answer.name}?`, requestedSchema: confirmAnswer }),
        },
        requestState: await ctx.mintState({ name: answer.name }),
      });
    }
    const view = inputResponse(ctx.inputResponses, 'confirm');
    const confirmed = acceptedContent(ctx.inputResponses, 'confirm', confirmAnswer);
    if (view.kind === 'elicit' && view.action !== 'accept') return 'Not greeting anyone.';
    if (!confirmed?.confirm) return 'Not greeting anyone.';
    return `Hello, ${state.name}!`;
  }

  @Tool({
    name: 'store_secret',
    description: 'Pretends to store a credential (for audit redaction tests).',
    input: z.object({
      username: z.string(),
      password: z.string(),
      note: z.string().meta({ sensitive: true }).optional(),
      text: z.string().optional(),
    }),
  })
  storeSecret({ username }: { username: string }) {
    return `stored a credential for ${username}`;
  }

  @Tool({
    name: 'wait_for_cancel',
    description: 'Waits until the call is cancelled (or 20 s pass).',
  })
  async waitForCancel(_input: unknown, ctx: ToolContext) {
    probe.started++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20_000);
      ctx.signal.addEventListener('abort', () => {
        probe.cancelled++;
        clearTimeout(timer);
        resolve();
      });
    });
    return ctx.signal.aborted ? 'cancelled' : 'not cancelled';
  }

  @Tool({
    name: 'slow_count',
    description: 'Counts to `to`, reporting progress every `every_ms`, then returns the count.',
    input: z.object({ to: z.number().int().min(1).max(100).default(5), every_ms: z.number().int().min(1).max(1000).default(100) }),
  })
  async slowCount({ to, every_ms }: { to: number; every_ms: number }, ctx: ToolContext) {
    for (let i = 1; i <= to; i++) {
      await new Promise((r) => setTimeout(r, every_ms));
      await ctx.progress(i, to, `counted ${i}`);
    }
    return `counted to ${to}`;
  }
}

@Module({ providers: [ProbeTools] })
export class ProbeToolsModule {}
