import type { CallToolResult } from '@modelcontextprotocol/server';
import { limitResult } from './result-limit';

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const noteOf = (result: CallToolResult) => (result.content.at(-1) as { text: string }).text;

describe('limitResult', () => {
  it('cuts long text under the cap and tells the model how much it got', () => {
    const result: CallToolResult = { content: [{ type: 'text', text: 'é'.repeat(40_000) + '"\n'.repeat(10_000) }] };
    const original = bytes(result);
    const { result: limited, truncation } = limitResult(result, original, 8192, 'docs_search');
    expect(bytes(limited)).toBeLessThanOrEqual(8192);
    expect(truncation).toEqual({ originalBytes: original, sentBytes: bytes(limited), droppedBlocks: 1, structuredWithheld: false });
    const kept = (limited.content[0] as { text: string }).text;
    expect(kept.length).toBeGreaterThan(3000);
    expect('é'.repeat(40_000).startsWith(kept)).toBe(true);
    expect(noteOf(limited)).toBe(
      `[Portico: this result was truncated: the tool returned ${original} bytes, the limit is 8192 bytes; 1 content block(s) were cut or left out. Call docs_search again asking for less (a filter, a smaller page or range).]`,
    );
    expect(limited.isError).toBeUndefined();
  });

  it('never splits a surrogate pair', () => {
    const result: CallToolResult = { content: [{ type: 'text', text: '😀'.repeat(10_000) }] };
    const { result: limited } = limitResult(result, bytes(result), 4096, 't');
    const kept = (limited.content[0] as { text: string }).text;
    expect(kept.length % 2).toBe(0);
    expect(kept).toBe('😀'.repeat(kept.length / 2));
  });

  it('keeps the blocks that fit and leaves out a large image whole', () => {
    const result: CallToolResult = {
      content: [
        { type: 'text', text: 'header' },
        { type: 'image', data: 'A'.repeat(20_000), mimeType: 'image/png' },
        { type: 'text', text: 'footer' },
      ],
    };
    const { result: limited, truncation } = limitResult(result, bytes(result), 4096, 't');
    expect(limited.content.slice(0, 2)).toEqual([
      { type: 'text', text: 'header' },
      { type: 'text', text: 'footer' },
    ]);
    expect(truncation.droppedBlocks).toBe(1);
  });

  it('withholds structured content over the cap: the result becomes an error the model reads', () => {
    const structured = { items: Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `item ${i}` })) };
    const result: CallToolResult = { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    const { result: limited, truncation } = limitResult(result, bytes(result), 4096, 'list_items');
    expect(limited.structuredContent).toBeUndefined();
    expect(limited.isError).toBe(true);
    expect(truncation.structuredWithheld).toBe(true);
    expect(noteOf(limited)).toContain('its structured content was withheld');
    expect(bytes(limited)).toBeLessThanOrEqual(4096);
  });
});
