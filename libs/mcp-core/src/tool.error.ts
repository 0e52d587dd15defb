export interface ToolErrorOptions {
  cause?: unknown;
  /**
   * A stable, machine-readable reason (`snake_case`, e.g. `net_refused`) for
   * the audit row's `error_code`. Not shown to the model.
   */
  code?: string;
  /**
   * Facts that explain the failure to an auditor (which rule refused which
   * address), stored as the audit row's `detail`. Not shown to the model, and
   * not redacted: never put a secret here.
   */
  detail?: Record<string, unknown>;
}

/**
 * An error whose message is safe to show to the model and the user. Tool
 * handlers throw it for failures the caller can act on ("project 42 not
 * found"); any other thrown error becomes a generic message, and its details
 * go only to the log. `code` and `detail` go to the audit log only.
 */
export class ToolError extends Error {
  readonly code?: string;
  readonly detail?: Record<string, unknown>;

  constructor(message: string, options?: ToolErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ToolError';
    this.code = options?.code;
    this.detail = options?.detail;
  }
}

/** Thrown at boot when tool definitions are invalid (duplicate or malformed names). */
export class ToolDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolDefinitionError';
  }
}
