export const TOOL_PROVIDER_METADATA = 'portico:tool-provider';
export const TOOL_METADATA = 'portico:tool';

/** Tool names: snake_case, at most 64 characters (the conformance suite's bound). */
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
