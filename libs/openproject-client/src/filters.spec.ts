import { durationToHours, hoursToDuration } from './duration';
import { filter, parseFilters, serializeFilters, serializeSortBy } from './filters';
import { idFromHref, linkRef, UNDISCLOSED_HREF } from './hal';

describe('API v3 filters, sorting, durations and HAL links', () => {
  it('serializes filters as OpenProject reads them and parses them back', () => {
    const filters = [filter('status', 'o'), filter('assignee', '=', ['me', 5])];
    const text = serializeFilters(filters);

    expect(text).toBe('[{"status":{"operator":"o","values":[]}},{"assignee":{"operator":"=","values":["me","5"]}}]');
    expect(parseFilters(text)).toEqual(filters);
    expect(serializeFilters([])).toBe('[]');
    expect(serializeSortBy([['updatedAt', 'desc']])).toBe('[["updatedAt","desc"]]');
  });

  it.each(['{"status":{}}', '[{"a":{"operator":"="},"b":{}}]', '[{"status":{"values":[]}}]', '[{"status":{"operator":"=","values":[1]}}]', 'not json'])(
    'rejects the malformed filters %s',
    (text) => {
      expect(() => parseFilters(text)).toThrow();
    },
  );

  it('converts ISO 8601 durations and decimal hours', () => {
    expect(durationToHours('PT1H30M')).toBe(1.5);
    expect(durationToHours('P2D')).toBe(48);
    expect(durationToHours('PT45M')).toBe(0.75);
    expect(durationToHours('garbage')).toBeUndefined();
    expect(hoursToDuration(1.5)).toBe('PT1H30M');
    expect(hoursToDuration(0.25)).toBe('PT15M');
    expect(hoursToDuration(8)).toBe('PT8H');
    expect(hoursToDuration(0)).toBe('PT0H');
    expect(() => hoursToDuration(-1)).toThrow(RangeError);
  });

  it('reads ids and titles from links, with null and undisclosed hrefs as no id', () => {
    const wp = { _type: 'WorkPackage', _links: { assignee: { href: '/api/v3/users/5', title: 'Bob' }, parent: { href: null }, project: { href: UNDISCLOSED_HREF, title: 'Secret' } } };

    expect(linkRef(wp, 'assignee')).toEqual({ id: 5, name: 'Bob' });
    expect(linkRef(wp, 'parent')).toBeNull();
    expect(linkRef(wp, 'project')).toEqual({ id: null, name: 'Secret' });
    expect(idFromHref('/api/v3/projects/apollo')).toBeUndefined();
  });
});
