import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from '@portico/mcp-core';

/** The principal the auth guard attached to the request. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<{ user: Principal }>().user,
);
