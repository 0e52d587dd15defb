/**
 * API v3 `filters`: a JSON array of one-key objects, ANDed together, e.g.
 * `[{"status":{"operator":"o","values":[]}}]`. `filters=[]` means "no filter"
 * (work package lists otherwise apply a default "open only" filter).
 */
export type FilterOperator =
  | '=' | '!' | '&=' | '>=' | '<=' | '*' | '!*' | '~' | '!~' | '**'
  | 'o' | 'c' | 't' | 'w' | '=d' | '<>d' | '>t-' | '<t-' | 't-' | '<t+' | '>t+' | 't+';

export interface Filter {
  name: string;
  operator: FilterOperator;
  values: string[];
}

export function filter(name: string, operator: FilterOperator, values: (string | number)[] = []): Filter {
  return { name, operator, values: values.map(String) };
}

/** The `filters` query value. An empty list serializes to `[]` (explicitly no filter). */
export function serializeFilters(filters: Filter[]): string {
  return JSON.stringify(filters.map((f) => ({ [f.name]: { operator: f.operator, values: f.values } })));
}

/** Parses a `filters` value; throws on anything that is not the documented shape. */
export function parseFilters(text: string): Filter[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new Error('filters must be a JSON array');
  return value.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Object.keys(entry).length !== 1) {
      throw new Error(`filter ${i + 1} must be an object with exactly one key`);
    }
    const [name, spec] = Object.entries(entry as Record<string, unknown>)[0];
    const { operator, values } = (spec ?? {}) as { operator?: unknown; values?: unknown };
    if (typeof operator !== 'string') throw new Error(`filter ${name} has no operator`);
    if (values !== undefined && (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))) {
      throw new Error(`filter ${name}: values must be an array of strings`);
    }
    return { name, operator: operator as FilterOperator, values: (values as string[] | undefined) ?? [] };
  });
}

export type SortDirection = 'asc' | 'desc';

/** The `sortBy` query value: `[["updatedAt","desc"]]`. */
export function serializeSortBy(sort: [string, SortDirection][]): string {
  return JSON.stringify(sort);
}
