import { Tool, type ToolContext, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { OpenProjectIdentityService } from './openproject-identity.service';
import { READ } from './openproject-tool.base';

const linkInput = z.object({
  apiKey: z
    .string()
    .min(20)
    .meta({ sensitive: true })
    .describe('Your OpenProject API key (My account → Access tokens → API). Stored encrypted; never shown again.'),
});

/**
 * Per-user identity: a principal links its own OpenProject API key. Composed
 * only with OPENPROJECT_IDENTITY=per-user. The key is `sensitive`, so the
 * audit row of the call keeps `[redacted]` instead; the row's detail names
 * the OpenProject account that was linked.
 */
@ToolProvider({ namespace: 'openproject' })
export class OpenProjectAccountTools {
  constructor(private readonly identity: OpenProjectIdentityService) {}

  @Tool({
    name: 'openproject_link_account',
    title: 'OpenProject: link my account',
    description:
      'Links your Portico identity to your OpenProject account with an API key you created in OpenProject, so OpenProject tools act as you. Replaces an earlier link.',
    input: linkInput,
    output: z.object({ linked: z.boolean(), openprojectUser: z.object({ id: z.number(), name: z.string(), login: z.string().optional() }) }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: READ,
  })
  async link({ apiKey }: z.infer<typeof linkInput>, ctx: ToolContext) {
    const user = await this.identity.link(ctx.principal.id, apiKey, ctx.signal);
    ctx.auditDetail({ openproject: { identity: 'per-user', linkedUser: user } });
    return { linked: true, openprojectUser: { id: user.id, name: user.name, ...(user.login && { login: user.login }) } };
  }

  @Tool({
    name: 'openproject_unlink_account',
    title: 'OpenProject: unlink my account',
    description: 'Forgets your stored OpenProject API key. Revoke the key in OpenProject too if it may have leaked.',
    output: z.object({ unlinked: z.boolean() }),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: READ,
  })
  async unlink(_input: object, ctx: ToolContext) {
    return { unlinked: await this.identity.unlink(ctx.principal.id) };
  }
}
