/**
 * An error whose message is safe to show to the model and the user. Tool
 * handlers throw it for failures the caller can act on ("project 42 not
 * found"); any other thrown error becomes a generic message, and its details
 * go only to the log.
 */
export class ToolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ToolError';
  }
}

/** Thrown at boot when tool definitions are invalid (duplicate or malformed names). */
export class ToolDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolDefinitionError';
  }
}
