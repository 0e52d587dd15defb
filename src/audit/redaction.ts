import { createHash } from 'node:crypto';

/** Keys whose values are never stored, whatever the tool declares. */
const SECRET_KEY = /pass(word|wd|phrase)?|secret|token|api[-_]?key|authori[sz]ation|cookie|credential|private[-_]?key|session[-_]?key/i;
const MAX_STRING = 256;
const MAX_DEPTH = 8;
const MAX_ITEMS = 50;

export const REDACTED = '[redacted]';

interface SchemaNode {
  sensitive?: boolean;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/**
 * Arguments as the audit log keeps them: values of secret-looking keys and of
 * fields the tool's input schema marks `sensitive: true` are replaced; long
 * strings are cut to 256 characters with their length and SHA-256 kept (so
 * two rows can still be compared); deep or wide structures are bounded.
 */
export function redactArguments(value: unknown, schema?: SchemaNode, depth = 0): unknown {
  if (typeof value === 'string') return truncate(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => redactArguments(v, schema?.items, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more items]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value).slice(0, MAX_ITEMS)) {
    const field = schema?.properties?.[key];
    out[key] = SECRET_KEY.test(key) || field?.sensitive ? REDACTED : redactArguments(v, field, depth + 1);
  }
  return out;
}

function truncate(s: string): unknown {
  if (s.length <= MAX_STRING) return s;
  return {
    truncated: s.slice(0, MAX_STRING),
    length: s.length,
    sha256: createHash('sha256').update(s).digest('hex'),
  };
}
