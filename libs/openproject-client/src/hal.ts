/**
 * HAL+JSON as API v3 speaks it: every resource has `_type`, `_links` (relations
 * and the actions the current user may take) and `_embedded` (full linked
 * representations). Only the parts Portico reads are typed.
 */
export interface HalLink {
  /** `null` means "no value" (an unassigned assignee, no parent). */
  href: string | null;
  title?: string;
  templated?: boolean;
  method?: string;
}

export type HalLinks = Record<string, HalLink | HalLink[] | undefined>;

export interface HalResource {
  _type: string;
  _links: HalLinks;
  _embedded?: Record<string, unknown>;
  [property: string]: unknown;
}

/** Long text: markdown `raw`, rendered `html`. Write it back as `{ raw }`. */
export interface Formattable {
  format?: string;
  raw?: string | null;
  html?: string;
}

/** A page of a collection. `offset` is the 1-based page number, not a row offset. */
export interface HalCollection<T extends HalResource = HalResource> extends HalResource {
  total: number;
  count: number;
  pageSize?: number;
  offset?: number;
  _embedded: { elements: T[] } & Record<string, unknown>;
}

/** `href` of resources the user may not see. */
export const UNDISCLOSED_HREF = 'urn:openproject-org:api:v3:undisclosed';

/** The link `name` of `resource` (the first one, for arrays), or undefined. */
export function link(resource: HalResource, name: string): HalLink | undefined {
  const l = resource._links?.[name];
  return Array.isArray(l) ? l[0] : l;
}

/** Every link of an array relation (`ancestors`, `children`, `customActions`...). */
export function links(resource: HalResource, name: string): HalLink[] {
  const l = resource._links?.[name];
  return Array.isArray(l) ? l : l ? [l] : [];
}

/** The numeric id at the end of an API href (`/api/v3/users/5` → 5); undefined for null, undisclosed or non-numeric. */
export function idFromHref(href: string | null | undefined): number | undefined {
  if (!href || href === UNDISCLOSED_HREF) return undefined;
  const m = /\/(\d+)\/?$/.exec(href);
  return m ? Number(m[1]) : undefined;
}

/** `{ id, name }` of a linked resource, or null when the link is unset. */
export function linkRef(resource: HalResource, name: string): { id: number | null; name: string } | null {
  const l = link(resource, name);
  if (!l || l.href === null) return null;
  return { id: idFromHref(l.href) ?? null, name: l.title ?? '' };
}

/** Whether the current user may take the action (`update`, `addComment`, `logTime`...): the link is present. */
export function canDo(resource: HalResource, action: string): boolean {
  return Boolean(link(resource, action));
}

/** The elements of a collection (an empty array when none are embedded). */
export function elements<T extends HalResource>(collection: HalCollection<T>): T[] {
  return collection._embedded?.elements ?? [];
}
