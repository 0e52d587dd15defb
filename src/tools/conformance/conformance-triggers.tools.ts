import { McpExplorer, Tool, ToolProvider } from '@portico/mcp-core';
import { ConformanceDynamicPrompt, ConformanceDynamicTool } from './conformance-dynamic.tools';

/**
 * Diagnostic hooks that change the tool and prompt lists, so the suite can
 * watch `list_changed` reach legacy sessions and modern `subscriptions/listen`
 * streams. Each call switches its dynamic item on or off.
 */
@ToolProvider({ namespace: 'conformance' })
export class ConformanceTriggers {
  /** The removers of the dynamic items switched on, by name. */
  private readonly on = new Map<string, () => void>();

  constructor(private readonly explorer: McpExplorer) {}

  @Tool({
    name: 'test_trigger_tool_change',
    description: 'Adds test_dynamic_tool, or removes it if present: the tool list changes.',
    annotations: { idempotentHint: false, openWorldHint: false },
  })
  triggerToolChange() {
    return this.toggle('test_dynamic_tool', () => new ConformanceDynamicTool());
  }

  @Tool({
    name: 'test_trigger_prompt_change',
    description: 'Adds test_dynamic_prompt, or removes it if present: the prompt list changes.',
    annotations: { idempotentHint: false, openWorldHint: false },
  })
  triggerPromptChange() {
    return this.toggle('test_dynamic_prompt', () => new ConformanceDynamicPrompt());
  }

  private toggle(name: string, create: () => object): string {
    const remove = this.on.get(name);
    if (remove) {
      remove();
      this.on.delete(name);
      return `${name} removed`;
    }
    this.on.set(name, this.explorer.register(create()));
    return `${name} added`;
  }
}
