import { applyDecorators, Injectable, SetMetadata } from '@nestjs/common';
import { TOOL_PROVIDER_METADATA } from '../constants';

export interface ToolProviderOptions {
  /**
   * The provider's group, e.g. `time` or `openproject`: shown in logs, audit and
   * status, and the unit in which a deployment switches tools on or off.
   */
  namespace: string;
}

/** Marks an injectable class whose `@Tool` methods are discovered at boot. */
export function ToolProvider(options: ToolProviderOptions): ClassDecorator {
  return applyDecorators(Injectable(), SetMetadata(TOOL_PROVIDER_METADATA, options));
}
