/**
 * An error whose message is safe to show to the model and the user. Tool
 * handlers throw it for failures the caller can act on ("project 42 not
 * found"); any other thrown error becomes a generic message, and its details
 * go only to the log.
 */
export class ToolError extends Error {
  /** A stable, machine-readable reason (e.g. `openproject.write_disabled`), recorded in the audit log. */
  readonly code?: string;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.name = 'ToolError';
    this.code = options?.code;
  }
}

/** Thrown at boot when tool definitions are invalid (duplicate or malformed names). */
export class ToolDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolDefinitionError';
  }
}
