import { Prompt, Tool, ToolProvider } from '@portico/mcp-core';

/**
 * A tool that `test_trigger_tool_change` registers and removes at runtime.
 * Not a Nest provider: the trigger creates it and hands it to `McpExplorer.register`.
 */
@ToolProvider({ namespace: 'conformance' })
export class ConformanceDynamicTool {
  @Tool({ name: 'test_dynamic_tool', description: 'Exists only while test_trigger_tool_change has switched it on.' })
  dynamic() {
    return 'This tool was added at runtime.';
  }
}

/** A prompt that `test_trigger_prompt_change` registers and removes at runtime. */
@ToolProvider({ namespace: 'conformance' })
export class ConformanceDynamicPrompt {
  @Prompt({ name: 'test_dynamic_prompt', description: 'Exists only while test_trigger_prompt_change has switched it on.' })
  dynamic() {
    return 'This prompt was added at runtime.';
  }
}
