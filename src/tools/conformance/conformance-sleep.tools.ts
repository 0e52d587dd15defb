import { Tool, type ToolContext, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { pause } from './fixture-media';

/**
 * Not from the conformance suite: a call that takes as long as asked, for
 * Portico's own tests against the built app (graceful shutdown with a call in
 * flight), which cannot load test modules.
 */
@ToolProvider({ namespace: 'conformance' })
export class ConformanceSleep {
  @Tool({
    name: 'test_sleep',
    description: 'Waits `ms` milliseconds (at most 60 s), then answers "slept <ms> ms"; cancellable.',
    input: z.object({ ms: z.number().int().min(0).max(60_000) }),
    annotations: { readOnlyHint: true, openWorldHint: false },
  })
  async sleep({ ms }: { ms: number }, ctx: ToolContext) {
    await pause(ms, ctx.signal);
    return `slept ${ms} ms`;
  }
}
