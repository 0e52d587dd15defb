import type { Dispatcher } from 'undici';

/** undici, loaded with the first client: a deployment without OpenProject never loads it. */
const undici = () => require('undici') as typeof import('undici');
import { type Filter, serializeFilters, serializeSortBy, type SortDirection } from './filters';
import type { HalCollection, HalResource } from './hal';
import { codeFor, OpenProjectError, OpenProjectErrorCode } from './openproject.error';
import type {
  Activity,
  Attachment,
  Configuration,
  Form,
  Membership,
  Notification,
  Priority,
  Project,
  Query,
  Relation,
  Root,
  Status,
  TimeEntry,
  Type,
  User,
  Version,
  WorkPackage,
} from './resources';

export interface OpenProjectClientOptions {
  /**
   * Where OpenProject answers, e.g. `http://openproject:8080` on the Docker
   * network, including the relative URL root if it has one
   * (`http://openproject:8080/pm`).
   */
  baseUrl: string;
  /** Per request, including retries' waits not. Default 10 000 ms. */
  timeoutMs?: number;
  /** Retries of idempotent requests (GET, forms) after a transport failure or 502/503/504. Default 2. */
  retries?: number;
  /**
   * `X-Forwarded-Proto` to send. `https` makes an OpenProject with
   * `OPENPROJECT_HTTPS=true` treat plain-HTTP calls from the internal network
   * as HTTPS instead of redirecting them.
   */
  forwardedProto?: 'https' | 'http';
  /** `Host` header to send instead of the URL's host (one OpenProject's host-name check accepts). */
  hostHeader?: string;
  /** Connection pool; one is made when not given. Share it between clients of the same OpenProject. */
  dispatcher?: Dispatcher;
}

/** Query parameters of collection endpoints. `offset` is the 1-based page number. */
export interface ListParams {
  filters?: Filter[];
  sortBy?: [string, SortDirection][];
  offset?: number;
  pageSize?: number;
  /** `select=total,count,elements/id,...`, on endpoints that support it. */
  select?: string[];
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Safe to repeat (GET, forms): retried on transport failures. */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** Send no credentials (health checks). */
  anonymous?: boolean;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const HOST_NAME_MESSAGE = /Invalid host_name configuration/i;

/**
 * A typed client for OpenProject API v3 over undici. It authenticates with
 * `Authorization: Basic base64("apikey:" + key)` (every OpenProject version
 * accepts it), never follows redirects (they would carry the key elsewhere),
 * retries only idempotent requests, and turns every failure into an
 * {@link OpenProjectError} with a stable code. Clients are cheap:
 * {@link withApiKey} gives one for another user on the same connection pool.
 */
export class OpenProjectClient {
  readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly authorization?: string;

  constructor(
    private readonly options: OpenProjectClientOptions,
    apiKey?: string,
  ) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? new (undici().Agent)({ connections: 16, keepAliveTimeout: 10_000 });
    if (apiKey !== undefined) this.authorization = `Basic ${Buffer.from(`apikey:${apiKey}`, 'utf8').toString('base64')}`;
  }

  /** A client acting as the owner of `apiKey`, sharing this one's connection pool. */
  withApiKey(apiKey: string): OpenProjectClient {
    return new OpenProjectClient({ ...this.options, dispatcher: this.dispatcher }, apiKey);
  }

  /** Closes the connection pool if this client made it. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  // --- generic -----------------------------------------------------------------

  get<T = HalResource>(path: string, query?: RequestOptions['query'], signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, idempotent: true, signal });
  }

  /** A collection page; `params` become `filters`, `sortBy`, `offset`, `pageSize`, `select`. */
  list<T extends HalResource>(path: string, params: ListParams = {}, extra: RequestOptions['query'] = {}, signal?: AbortSignal) {
    return this.get<HalCollection<T>>(path, { ...listQuery(params), ...extra }, signal);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const retries = options.idempotent ? (this.options.retries ?? 2) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, url, path, options);
      } catch (e) {
        const retryable =
          e instanceof OpenProjectError &&
          (e.code === OpenProjectErrorCode.Unreachable || (e.details.status !== undefined && RETRYABLE_STATUS.has(e.details.status)));
        if (!retryable || attempt >= retries || options.signal?.aborted) throw e;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  // --- instance and users -----------------------------------------------------------

  /** `GET /health_checks/default`: OpenProject's liveness, exempt from the host-name check and the https redirect. */
  async healthCheck(signal?: AbortSignal): Promise<{ ok: boolean; status: number; body: string }> {
    const { status, body } = await this.raw('GET', this.url('/health_checks/default'), '/health_checks/default', { anonymous: true, signal });
    return { ok: status === 200, status, body: body.slice(0, 500) };
  }

  me(signal?: AbortSignal) {
    return this.get<User>('/api/v3/users/me', undefined, signal);
  }
  root(signal?: AbortSignal) {
    return this.get<Root>('/api/v3', undefined, signal);
  }
  configuration(signal?: AbortSignal) {
    return this.get<Configuration>('/api/v3/configuration', undefined, signal);
  }
  principals(params: ListParams, signal?: AbortSignal) {
    return this.list<User>('/api/v3/principals', params, {}, signal);
  }
  availableAssignees(projectId: number | string, signal?: AbortSignal) {
    return this.list<User>(`/api/v3/projects/${enc(projectId)}/available_assignees`, {}, {}, signal);
  }
  memberships(params: ListParams, signal?: AbortSignal) {
    return this.list<Membership>('/api/v3/memberships', params, {}, signal);
  }

  // --- projects -------------------------------------------------------------------

  projects(params: ListParams, signal?: AbortSignal) {
    return this.list<Project>('/api/v3/projects', params, {}, signal);
  }
  /** By numeric id or identifier. */
  project(idOrIdentifier: number | string, signal?: AbortSignal) {
    return this.get<Project>(`/api/v3/projects/${enc(idOrIdentifier)}`, undefined, signal);
  }

  // --- work packages ----------------------------------------------------------------

  /** Without `filters`, OpenProject lists only open work packages; pass `[]` for all. */
  workPackages(params: ListParams & { project?: number | string }, signal?: AbortSignal) {
    const path = params.project !== undefined ? `/api/v3/projects/${enc(params.project)}/work_packages` : '/api/v3/work_packages';
    return this.list<WorkPackage>(path, params, {}, signal);
  }
  workPackage(id: number, signal?: AbortSignal) {
    return this.get<WorkPackage>(`/api/v3/work_packages/${id}`, undefined, signal);
  }
  /** Validates without saving: `POST /projects/{id}/work_packages/form`. */
  workPackageCreateForm(projectId: number | string, body: object, signal?: AbortSignal) {
    return this.request<Form>('POST', `/api/v3/projects/${enc(projectId)}/work_packages/form`, { body, idempotent: true, signal });
  }
  /** Validates a change without saving: `POST /work_packages/{id}/form` (include `lockVersion`). */
  workPackageUpdateForm(id: number, body: object, signal?: AbortSignal) {
    return this.request<Form>('POST', `/api/v3/work_packages/${id}/form`, { body, idempotent: true, signal });
  }
  createWorkPackage(projectId: number | string, body: object, notify = true, signal?: AbortSignal) {
    return this.request<WorkPackage>('POST', `/api/v3/projects/${enc(projectId)}/work_packages`, { body, query: { notify }, signal });
  }
  /** `body` must carry the `lockVersion` the change is based on; a stale one fails with {@link OpenProjectErrorCode.Conflict}. */
  updateWorkPackage(id: number, body: { lockVersion: number } & Record<string, unknown>, notify = true, signal?: AbortSignal) {
    return this.request<WorkPackage>('PATCH', `/api/v3/work_packages/${id}`, { body, query: { notify }, signal });
  }
  deleteWorkPackage(id: number, signal?: AbortSignal) {
    return this.request<void>('DELETE', `/api/v3/work_packages/${id}`, { signal });
  }
  activities(workPackageId: number, signal?: AbortSignal) {
    return this.list<Activity>(`/api/v3/work_packages/${workPackageId}/activities`, {}, {}, signal);
  }
  addComment(workPackageId: number, markdown: string, options: { internal?: boolean; notify?: boolean } = {}, signal?: AbortSignal) {
    return this.request<Activity | undefined>('POST', `/api/v3/work_packages/${workPackageId}/activities`, {
      body: { comment: { raw: markdown }, ...(options.internal !== undefined && { internal: options.internal }) },
      query: { notify: options.notify ?? true },
      signal,
    });
  }
  activity(id: number, signal?: AbortSignal) {
    return this.get<Activity>(`/api/v3/activities/${id}`, undefined, signal);
  }
  updateComment(activityId: number, markdown: string, signal?: AbortSignal) {
    return this.request<Activity>('PATCH', `/api/v3/activities/${activityId}`, { body: { comment: { raw: markdown } }, signal });
  }
  watchers(workPackageId: number, signal?: AbortSignal) {
    return this.list<User>(`/api/v3/work_packages/${workPackageId}/watchers`, {}, {}, signal);
  }
  addWatcher(workPackageId: number, userId: number, signal?: AbortSignal) {
    return this.request<unknown>('POST', `/api/v3/work_packages/${workPackageId}/watchers`, {
      body: { user: { href: `/api/v3/users/${userId}` } },
      signal,
    });
  }
  removeWatcher(workPackageId: number, userId: number, signal?: AbortSignal) {
    return this.request<void>('DELETE', `/api/v3/work_packages/${workPackageId}/watchers/${userId}`, { signal });
  }
  attachments(workPackageId: number, signal?: AbortSignal) {
    return this.list<Attachment>(`/api/v3/work_packages/${workPackageId}/attachments`, {}, {}, signal);
  }

  // --- reference data ----------------------------------------------------------------

  statuses(signal?: AbortSignal) {
    return this.list<Status>('/api/v3/statuses', {}, {}, signal);
  }
  types(projectId?: number | string, signal?: AbortSignal) {
    return this.list<Type>(projectId !== undefined ? `/api/v3/projects/${enc(projectId)}/types` : '/api/v3/types', {}, {}, signal);
  }
  priorities(signal?: AbortSignal) {
    return this.list<Priority>('/api/v3/priorities', {}, {}, signal);
  }
  versions(params: ListParams & { project?: number | string }, signal?: AbortSignal) {
    if (params.project !== undefined) return this.list<Version>(`/api/v3/projects/${enc(params.project)}/versions`, {}, {}, signal);
    return this.list<Version>('/api/v3/versions', { filters: params.filters }, {}, signal);
  }
  version(id: number, signal?: AbortSignal) {
    return this.get<Version>(`/api/v3/versions/${id}`, undefined, signal);
  }
  createVersion(body: object, signal?: AbortSignal) {
    return this.request<Version>('POST', '/api/v3/versions', { body, signal });
  }

  // --- time --------------------------------------------------------------------------

  timeEntries(params: ListParams, signal?: AbortSignal) {
    return this.list<TimeEntry>('/api/v3/time_entries', params, {}, signal);
  }
  timeEntry(id: number, signal?: AbortSignal) {
    return this.get<TimeEntry>(`/api/v3/time_entries/${id}`, undefined, signal);
  }
  /** The time entry form: its schema lists the allowed activities. */
  timeEntryForm(body: object, signal?: AbortSignal) {
    return this.request<Form>('POST', '/api/v3/time_entries/form', { body, idempotent: true, signal });
  }
  createTimeEntry(body: object, signal?: AbortSignal) {
    return this.request<TimeEntry>('POST', '/api/v3/time_entries', { body, signal });
  }
  updateTimeEntry(id: number, body: object, signal?: AbortSignal) {
    return this.request<TimeEntry>('PATCH', `/api/v3/time_entries/${id}`, { body, signal });
  }
  deleteTimeEntry(id: number, signal?: AbortSignal) {
    return this.request<void>('DELETE', `/api/v3/time_entries/${id}`, { signal });
  }

  // --- queries, relations, notifications ---------------------------------------------

  queries(params: ListParams, signal?: AbortSignal) {
    return this.list<Query>('/api/v3/queries', params, {}, signal);
  }
  /** A saved query with its results embedded (`_embedded.results`), for the page asked. */
  query(id: number, page: { offset?: number; pageSize?: number } = {}, signal?: AbortSignal) {
    return this.get<Query>(`/api/v3/queries/${id}`, { offset: page.offset, pageSize: page.pageSize }, signal);
  }
  relations(params: ListParams, signal?: AbortSignal) {
    return this.list<Relation>('/api/v3/relations', params, {}, signal);
  }
  relation(id: number, signal?: AbortSignal) {
    return this.get<Relation>(`/api/v3/relations/${id}`, undefined, signal);
  }
  createRelation(fromId: number, body: object, signal?: AbortSignal) {
    return this.request<Relation>('POST', `/api/v3/work_packages/${fromId}/relations`, { body, signal });
  }
  deleteRelation(id: number, signal?: AbortSignal) {
    return this.request<void>('DELETE', `/api/v3/relations/${id}`, { signal });
  }
  notifications(params: ListParams, signal?: AbortSignal) {
    return this.list<Notification>('/api/v3/notifications', params, {}, signal);
  }
  markNotificationRead(id: number, signal?: AbortSignal) {
    return this.request<void>('POST', `/api/v3/notifications/${id}/read_ian`, { signal });
  }
  /** Marks every notification matching `filters` read. */
  markNotificationsRead(filters: Filter[], signal?: AbortSignal) {
    return this.request<void>('POST', '/api/v3/notifications/read_ian', { query: { filters: serializeFilters(filters) }, signal });
  }

  // --- transport ---------------------------------------------------------------------

  private url(path: string, query?: RequestOptions['query']): string {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  private async raw(method: string, url: string, path: string, options: RequestOptions) {
    const headers: Record<string, string> = { accept: 'application/hal+json, application/json' };
    if (!options.anonymous) {
      if (!this.authorization) throw new OpenProjectError(OpenProjectErrorCode.Unauthenticated, 'No OpenProject API key is configured for this call', { method, path });
      headers.authorization = this.authorization;
    }
    if (this.options.hostHeader) headers.host = this.options.hostHeader;
    if (this.options.forwardedProto) headers['x-forwarded-proto'] = this.options.forwardedProto;
    let body: string | undefined;
    if (options.body !== undefined || method === 'POST' || method === 'PATCH') {
      body = JSON.stringify(options.body ?? {});
      headers['content-type'] = 'application/json';
    }
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      const res = await undici().request(url, { method: method as Dispatcher.HttpMethod, headers, body, signal, dispatcher: this.dispatcher });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body: text };
    } catch (e) {
      if (timeout.aborted) throw new OpenProjectError(OpenProjectErrorCode.Timeout, `OpenProject did not answer ${method} ${path} within ${timeoutMs / 1000} s`, { method, path, cause: e });
      if (options.signal?.aborted) throw e;
      const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code ?? 'error';
      throw new OpenProjectError(OpenProjectErrorCode.Unreachable, `OpenProject is unreachable at ${this.baseUrl} (${code})`, { method, path, transportCode: code, cause: e });
    }
  }

  private async once<T>(method: string, url: string, path: string, options: RequestOptions): Promise<T> {
    const res = await this.raw(method, url, path, options);
    const contentType = String(res.headers['content-type'] ?? '');
    if (res.status >= 200 && res.status < 300) {
      if (res.status === 204 || !res.body) return undefined as T;
      if (!/json/.test(contentType)) {
        throw new OpenProjectError(OpenProjectErrorCode.UnexpectedResponse, `OpenProject answered ${method} ${path} with ${contentType || 'no content type'}, not JSON`, { status: res.status, method, path });
      }
      return JSON.parse(res.body) as T;
    }
    if (res.status >= 300 && res.status < 400) {
      const location = String(res.headers.location ?? '');
      if (location.startsWith('https:') && new URL(url).protocol === 'http:') {
        throw new OpenProjectError(
          OpenProjectErrorCode.HttpsRedirect,
          `OpenProject redirected ${method} ${path} to ${location}: it runs with OPENPROJECT_HTTPS=true and sees a plain-HTTP request. ` +
            'Send X-Forwarded-Proto: https (OPENPROJECT_FORWARDED_PROTO=https in Portico), or set OPENPROJECT_HTTPS=false on OpenProject when TLS ends at a proxy in front of it.',
          { status: res.status, method, path },
        );
      }
      throw new OpenProjectError(OpenProjectErrorCode.Redirect, `OpenProject redirected ${method} ${path} to ${location || 'nowhere'}; redirects are not followed. Check OPENPROJECT_URL (and its relative URL root).`, { status: res.status, method, path });
    }
    if (res.status === 400 && HOST_NAME_MESSAGE.test(res.body)) {
      const host = this.options.hostHeader ?? new URL(url).host;
      throw new OpenProjectError(
        OpenProjectErrorCode.HostNameRejected,
        `OpenProject rejected the host name "${host}" (400 Invalid host_name configuration). ` +
          `Add it to OPENPROJECT_ADDITIONAL__HOST__NAMES on OpenProject (e.g. OPENPROJECT_ADDITIONAL__HOST__NAMES=${host.replace(/:\d+$/, '')}), or send an accepted name with OPENPROJECT_HOST_HEADER in Portico.`,
        { status: 400, method, path },
      );
    }
    let error: { errorIdentifier?: string; message?: string; _embedded?: { details?: { attribute?: string }; errors?: { message?: string }[] } } = {};
    if (/json/.test(contentType)) {
      try {
        error = JSON.parse(res.body);
      } catch {
        // fall through to the generic message
      }
    }
    const code = codeFor(res.status, error.errorIdentifier);
    const messages = error._embedded?.errors?.map((e) => e.message ?? '').filter(Boolean);
    const message =
      messages?.length ? messages.join(' ') : (error.message ?? (res.status === 401 ? 'OpenProject refused the API key (401): it is wrong, expired or revoked.' : `OpenProject answered ${method} ${path} with HTTP ${res.status}`));
    throw new OpenProjectError(code, message, { status: res.status, errorIdentifier: error.errorIdentifier, attribute: error._embedded?.details?.attribute, messages, method, path });
  }
}

function enc(value: number | string): string {
  return encodeURIComponent(String(value));
}

function listQuery(params: ListParams): Record<string, string | number | undefined> {
  return {
    filters: params.filters ? serializeFilters(params.filters) : undefined,
    sortBy: params.sortBy ? serializeSortBy(params.sortBy) : undefined,
    offset: params.offset,
    pageSize: params.pageSize,
    select: params.select?.join(','),
  };
}
