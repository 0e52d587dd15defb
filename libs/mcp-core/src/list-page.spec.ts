import { ProtocolError } from '@modelcontextprotocol/server';
import { listPage } from './list-page';

const items = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name }));

describe('listPage', () => {
  it('returns everything in one page when it fits, without a cursor', () => {
    expect(listPage(items, undefined, 10)).toEqual({ items, nextCursor: undefined });
  });

  it('stays stable when an item is added between pages', () => {
    const first = listPage(items, undefined, 2);
    expect(first.items.map((i) => i.name)).toEqual(['a', 'b']);
    const grown = [{ name: 'a0' }, ...items].sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(listPage(grown, first.nextCursor, 2).items.map((i) => i.name)).toEqual(['c', 'd']);
  });

  it('answers a cursor past the end with an empty last page', () => {
    const last = listPage(items, listPage(items, undefined, 4).nextCursor, 4);
    expect(last).toEqual({ items: [{ name: 'e' }], nextCursor: undefined });
  });

  it('rejects a cursor it did not make as invalid params', () => {
    for (const bad of ['garbage', Buffer.from('{"x":1}').toString('base64url'), '']) {
      expect(() => listPage(items, bad, 2)).toThrow(ProtocolError);
    }
  });
});
