export const TOOL_PROVIDER_METADATA = 'portico:tool-provider';
export const TOOL_METADATA = 'portico:tool';
export const RESOURCE_METADATA = 'portico:resource';
export const RESOURCE_TEMPLATE_METADATA = 'portico:resource-template';
export const PROMPT_METADATA = 'portico:prompt';

/** Tool and prompt names: snake_case, at most 64 characters (the conformance suite's bound). */
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
