import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/**
 * One page of a name-ordered list. The cursor is opaque to clients: it names
 * the last item of the previous page, so pages stay stable when items are
 * added. A cursor that does not decode is invalid params.
 */
export function listPage<T extends { name: string }>(
  items: T[],
  cursor: string | undefined,
  pageSize: number,
): { items: T[]; nextCursor?: string } {
  let start = 0;
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    start = items.findIndex((i) => i.name > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + pageSize);
  const more = start + pageSize < items.length;
  return { items: page, nextCursor: more ? encodeCursor(page[page.length - 1].name) : undefined };
}

function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof value?.after === 'string') return value.after;
  } catch {
    // fall through
  }
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor');
}
