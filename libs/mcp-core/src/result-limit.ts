import type { CallToolResult } from '@modelcontextprotocol/server';

/** Room kept under the cap for the note and the result's own fields. */
const NOTE_ROOM = 400;

/** What {@link limitResult} did, for the audit record. */
export interface ResultTruncation {
  /** Serialized size of the result the tool returned. */
  originalBytes: number;
  /** Serialized size of the result sent instead. */
  sentBytes: number;
  /** Content blocks left out whole (images, audio, resources, text past the cut). */
  droppedBlocks: number;
  /** True when `structuredContent` was withheld (the result becomes `isError`, so no output schema applies). */
  structuredWithheld: boolean;
}

/**
 * Fits a tool result under `maxBytes` (serialized JSON): text is cut at a
 * character boundary, blocks that no longer fit are left out, and a last
 * text block tells the model what was cut and how much, so it can ask for
 * less. `structuredContent` cannot be cut without breaking its schema: it is
 * withheld and the result becomes an error the model can read.
 * `bytes` is the result's serialized size, as the caller measured it.
 */
export function limitResult(
  result: CallToolResult,
  bytes: number,
  maxBytes: number,
  tool: string,
): { result: CallToolResult; truncation: ResultTruncation } {
  let budget = Math.max(0, maxBytes - NOTE_ROOM);
  const content: CallToolResult['content'] = [];
  let dropped = 0;
  for (const block of result.content) {
    const size = jsonBytes(block);
    if (size <= budget) {
      content.push(block);
      budget -= size;
    } else if (block.type === 'text' && budget > 0) {
      const text = cutText(block.text, budget - (size - jsonBytes(block.text)));
      if (text) content.push({ ...block, text });
      budget = 0;
      dropped++;
    } else {
      dropped++;
    }
  }
  const structuredWithheld = result.structuredContent !== undefined;
  const note =
    `[Portico: this result was truncated: the tool returned ${bytes} bytes, the limit is ${maxBytes} bytes` +
    (dropped ? `; ${dropped} content block(s) were cut or left out` : '') +
    (structuredWithheld ? '; its structured content was withheld' : '') +
    `. Call ${tool} again asking for less (a filter, a smaller page or range).]`;
  content.push({ type: 'text', text: note });
  const limited: CallToolResult = { content, ...(structuredWithheld || result.isError ? { isError: true } : {}) };
  return {
    result: limited,
    truncation: { originalBytes: bytes, sentBytes: jsonBytes(limited), droppedBlocks: dropped, structuredWithheld },
  };
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** The longest prefix of `text` whose JSON string takes at most `budget` bytes, never splitting a surrogate pair. */
function cutText(text: string, budget: number): string {
  if (budget <= 2) return '';
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonBytes(text.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const code = text.charCodeAt(lo - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? lo - 1 : lo);
}
