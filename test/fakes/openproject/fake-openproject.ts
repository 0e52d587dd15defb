import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseFilters, type Filter } from '../../../libs/openproject-client/src/filters';
import { type Dataset, type FakeProject, type FakeUser, type FakeWorkPackage, seed } from './dataset';
import { OpenApiContract } from './openapi-contract';

const API = '/api/v3';
const ERR = 'urn:openproject-org:api:v3:errors:';
const HAL = 'application/hal+json; charset=utf-8';

/** One request as the fake saw it: who made it (by login) and what it answered. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The OpenProject user the key belongs to; undefined when unauthenticated. */
  user?: string;
  status: number;
  body?: unknown;
  headers: IncomingMessage['headers'];
}

export interface FakeOpenProjectOptions {
  /**
   * Host names accepted, like OPENPROJECT_HOST__NAME + OPENPROJECT_ADDITIONAL__HOST__NAMES;
   * any other Host gets 400 text/plain "Invalid host_name configuration". Unset: any host.
   */
  allowedHosts?: string[];
  /** Like OPENPROJECT_HTTPS=true: plain-HTTP API calls without X-Forwarded-Proto: https get 301 to https. */
  https?: boolean;
  /** A hung OpenProject: connections are accepted and never answered. */
  silent?: boolean;
  /** A slow OpenProject: every request (liveness included) is answered this many milliseconds late. */
  delayMs?: number;
  /**
   * A failing OpenProject: every request (liveness included) is answered with this status and
   * `body` (as text/plain unless it is an object, sent as OpenProject's HAL error), as Rails or
   * the proxy in front of it would. Sent without the contract check: these answer no operation.
   */
  fail?: { status: number; body: string | Record<string, unknown> };
}

class HttpError extends Error {
  constructor(readonly status: number, readonly identifier: string, message: string, readonly attribute?: string) {
    super(message);
  }
}

type Handler = (req: Ctx) => Promise<Reply> | Reply;
interface Ctx {
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  user: FakeUser;
}
interface Reply {
  status: number;
  body?: unknown;
  contentType?: string;
}

/**
 * A fake OpenProject API v3 over HTTP with an in-memory dataset. It checks
 * what OpenProject checks (the `apikey` Basic credentials, project
 * membership, `lockVersion` on PATCH, the `filters` JSON, workflows, the Host
 * header and the https redirect when configured), and validates **every**
 * API response it sends against OpenProject's published OpenAPI contract: a
 * response that does not validate is recorded in {@link violations} and
 * replaced by a 500, so no test can pass on a drifted fake.
 */
export class FakeOpenProject {
  data: Dataset = seed();
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  /** Alters a response body before it is validated and sent (contract tests use it to drift on purpose). */
  tamper?: (operation: { method: string; path: string; status: number }, body: unknown) => unknown;
  options: FakeOpenProjectOptions;
  private server?: Server;
  private readonly contract = OpenApiContract.load();
  private nextId = 10_000;
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[] = [];

  constructor(options: FakeOpenProjectOptions = {}) {
    this.options = options;
    this.defineRoutes();
  }

  url = '';

  /** Listens on `port` (0: a free one; the port it had before to come back after {@link stop}). */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  reset(): void {
    this.data = seed();
    this.requests.length = 0;
    this.violations.length = 0;
    this.tamper = undefined;
    this.options = {};
  }

  /** Requests to `path` (exact, without query), optionally only of `method`. */
  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  // --- HTTP ----------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.options.silent) return; // the request waits until the client gives up
    if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await new Promise<string>((resolve) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c));
      req.on('end', () => resolve(data));
    });
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, headers: req.headers };
    this.requests.push(record);
    const { fail } = this.options;
    if (fail) {
      if (typeof fail.body === 'string') return this.sendRaw(res, record, fail.status, fail.body, 'text/plain');
      return this.sendRaw(res, record, fail.status, JSON.stringify(fail.body), HAL);
    }
    const exempt = url.pathname.startsWith('/health_check') || url.pathname.startsWith('/sys');
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    // Rails' host authorization and force_ssl run before the API (production.rb).
    if (!exempt && this.options.allowedHosts && !this.options.allowedHosts.includes(host)) {
      return this.sendRaw(res, record, 400, 'Invalid host_name configuration', 'text/plain; charset=utf-8');
    }
    if (!exempt && this.options.https && req.headers['x-forwarded-proto'] !== 'https') {
      res.setHeader('location', `https://${req.headers.host}${req.url}`);
      return this.sendRaw(res, record, 301, '', 'text/html');
    }
    if (url.pathname === '/health_checks/default') return this.sendRaw(res, record, 200, 'default: PASSED Application is running (0.000s)', 'text/plain');

    let reply: Reply;
    try {
      const user = this.authenticate(req.headers.authorization);
      record.user = user.login;
      let body: Record<string, unknown> = {};
      if (raw) {
        if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
          throw new HttpError(415, 'TypeNotSupported', 'Expected CONTENT-TYPE to be (expected value) but got (actual value).');
        }
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          throw new HttpError(400, 'InvalidRequestBody', 'The request body was not a single JSON object.');
        }
      }
      record.body = raw ? body : undefined;
      reply = await this.route(method, url.pathname, url.searchParams, body, user);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      reply = { status: e.status, body: errorBody(e) };
    }
    let body = reply.body;
    if (this.tamper) body = this.tamper({ method, path: url.pathname, status: reply.status }, body);
    const contentType = body === undefined ? undefined : (reply.contentType ?? HAL);
    const check = this.contract.validate({ method, path: url.pathname, status: reply.status, contentType, body });
    if (!check.ok) {
      this.violations.push(...check.errors);
      return this.sendRaw(res, record, 500, `contract violation:\n${check.errors.join('\n')}`, 'text/plain');
    }
    this.sendRaw(res, record, reply.status, body === undefined ? '' : JSON.stringify(body), contentType);
  }

  private sendRaw(res: ServerResponse, record: RecordedRequest, status: number, text: string, contentType?: string): void {
    record.status = status;
    if (contentType && text) res.setHeader('content-type', contentType);
    res.statusCode = status;
    res.end(text);
  }

  private authenticate(header: string | undefined): FakeUser {
    const unauthenticated = new HttpError(401, 'Unauthenticated', 'You did not provide the correct credentials.');
    if (!header?.startsWith('Basic ')) throw unauthenticated;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (decoded.slice(0, colon) !== 'apikey') throw unauthenticated;
    const user = this.data.users.find((u) => u.apiKey === decoded.slice(colon + 1));
    if (!user) throw unauthenticated;
    return user;
  }

  private async route(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>, user: FakeUser): Promise<Reply> {
    for (const r of this.routes) {
      const m = r.method === method ? r.pattern.exec(path) : null;
      if (m) return r.handler({ method, path, params: m.slice(1), query, body, user });
    }
    throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
  }

  private on(method: string, path: string, handler: Handler): void {
    this.routes.push({ method, pattern: new RegExp(`^${API}${path.replace(/:\w+/g, '([^/]+)')}$`), handler });
  }

  // --- permissions ---------------------------------------------------------------------

  private role(user: FakeUser, projectId: number): 'Admin' | 'Member' | 'Reader' | undefined {
    if (user.admin) return 'Admin';
    return this.data.memberships.find((m) => m.projectId === projectId && m.userId === user.id)?.role;
  }

  private visibleProjects(user: FakeUser): FakeProject[] {
    return this.data.projects.filter((p) => this.role(user, p.id));
  }

  /** Edit, comment, log time, manage relations/versions: members and admins. Delete: admins only. */
  private may(user: FakeUser, projectId: number, action: 'view' | 'edit' | 'delete'): boolean {
    const role = this.role(user, projectId);
    if (action === 'view') return Boolean(role);
    if (action === 'delete') return role === 'Admin';
    return role === 'Admin' || role === 'Member';
  }

  private project(user: FakeUser, idOrIdentifier: string): FakeProject {
    const p = this.data.projects.find((x) => String(x.id) === idOrIdentifier || x.identifier === idOrIdentifier);
    if (!p || !this.may(user, p.id, 'view')) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
    return p;
  }

  private workPackage(user: FakeUser, id: string | number): FakeWorkPackage {
    const w = this.data.workPackages.find((x) => x.id === Number(id));
    if (!w || !this.may(user, w.projectId, 'view')) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
    return w;
  }

  private require(user: FakeUser, projectId: number, action: 'edit' | 'delete'): void {
    if (!this.may(user, projectId, action)) throw new HttpError(403, 'MissingPermission', 'You are not authorized to access this resource.');
  }

  private id(): number {
    return ++this.nextId;
  }

  // --- routes --------------------------------------------------------------------------

  private defineRoutes(): void {
    const d = () => this.data;
    this.on('GET', '', ({ user }) => ok(this.rRoot(user)));
    this.on('GET', '/configuration', () => ok({ _type: 'Configuration', maximumAttachmentFileSize: 5242880, hostName: 'openproject.example.com', perPageOptions: [20, 100], durationFormat: 'hours_only', activeFeatureFlags: [], _links: { self: { href: `${API}/configuration` } } }));
    this.on('GET', '/users/:id', ({ user, params }) => {
      const u = params[0] === 'me' ? user : d().users.find((x) => String(x.id) === params[0]);
      if (!u) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      return ok(this.rUser(u));
    });
    this.on('GET', '/principals', ({ user, query }) => {
      const filters = this.filters(query, ['name', 'type', 'member', 'status', 'id']);
      let users = user.admin ? d().users : d().users.filter((u) => d().memberships.some((m) => m.userId === u.id && this.role(user, m.projectId)));
      for (const f of filters) {
        if (f.name === 'name') users = users.filter((u) => matches(`${u.firstName} ${u.lastName} ${u.login} ${u.email}`, f));
        if (f.name === 'member') users = users.filter((u) => d().memberships.some((m) => m.userId === u.id && f.values.includes(String(m.projectId))));
        if (f.name === 'id') users = users.filter((u) => f.values.includes(String(u.id)));
      }
      return ok(this.page(`${API}/principals`, users.map((u) => this.rUser(u)), query));
    });
    this.on('GET', '/projects/:id/available_assignees', ({ user, params }) => {
      const p = this.project(user, params[0]);
      const users = d().users.filter((u) => d().memberships.some((m) => m.userId === u.id && m.projectId === p.id && m.role === 'Member'));
      return ok(collection(`${API}/projects/${p.id}/available_assignees`, users.map((u) => this.rUser(u))));
    });
    this.on('GET', '/memberships', ({ user, query }) => {
      const filters = this.filters(query, ['project', 'principal']);
      let ms = d().memberships.filter((m) => this.role(user, m.projectId));
      for (const f of filters) {
        if (f.name === 'project') ms = ms.filter((m) => f.values.includes(String(m.projectId)));
        if (f.name === 'principal') ms = ms.filter((m) => f.values.includes(String(m.userId)));
      }
      return ok(this.page(`${API}/memberships`, ms.map((m) => this.rMembership(m)), query));
    });

    this.on('GET', '/projects', ({ user, query }) => {
      const filters = this.filters(query, ['active', 'name_and_identifier', 'id', 'parent_id']);
      let ps = this.visibleProjects(user);
      for (const f of filters) {
        if (f.name === 'active') ps = ps.filter((p) => ['t', 'true'].includes(f.values[0]) === p.active);
        if (f.name === 'name_and_identifier') ps = ps.filter((p) => matches(`${p.name} ${p.identifier}`, f));
        if (f.name === 'id') ps = ps.filter((p) => f.values.includes(String(p.id)));
        if (f.name === 'parent_id') ps = ps.filter((p) => f.values.includes(String(p.parentId)));
      }
      return ok(this.page(`${API}/projects`, ps.map((p) => this.rProject(p)), query));
    });
    this.on('GET', '/projects/:id', ({ user, params }) => ok(this.rProject(this.project(user, params[0]))));
    this.on('GET', '/projects/:id/types', ({ user, params }) => {
      const p = this.project(user, params[0]);
      return ok(collection(`${API}/projects/${p.id}/types`, d().types.map((t) => this.rType(t))));
    });
    this.on('GET', '/projects/:id/versions', ({ user, params }) => {
      const p = this.project(user, params[0]);
      return ok(collection(`${API}/projects/${p.id}/versions`, d().versions.filter((v) => v.projectId === p.id).map((v) => this.rVersion(v))));
    });

    this.on('GET', '/statuses', () => ok(collection(`${API}/statuses`, d().statuses.map((s) => this.rStatus(s)))));
    this.on('GET', '/types', () => ok(collection(`${API}/types`, d().types.map((t) => this.rType(t)))));
    this.on('GET', '/priorities', () => ok(collection(`${API}/priorities`, d().priorities.map((p) => this.rPriority(p)))));
    this.on('GET', '/versions', ({ user, query }) => {
      const filters = this.filters(query, ['sharing', 'name']);
      let vs = d().versions.filter((v) => this.role(user, v.projectId));
      for (const f of filters) if (f.name === 'name') vs = vs.filter((v) => matches(v.name, f));
      return ok(collection(`${API}/versions`, vs.map((v) => this.rVersion(v))));
    });
    this.on('GET', '/versions/:id', ({ user, params }) => {
      const v = d().versions.find((x) => String(x.id) === params[0] && this.role(user, x.projectId));
      if (!v) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      return ok(this.rVersion(v));
    });
    this.on('POST', '/versions', ({ user, body }) => {
      const projectId = idOf(linkHref(body, 'definingProject'));
      if (!projectId || !this.role(user, projectId)) throw new HttpError(422, 'PropertyConstraintViolation', 'Project is invalid.', 'definingProject');
      this.require(user, projectId, 'edit');
      if (typeof body.name !== 'string' || !body.name) throw new HttpError(422, 'PropertyConstraintViolation', "Name can't be blank.", 'name');
      const v = { id: this.id(), projectId, name: body.name, description: formattableRaw(body.description) ?? '', startDate: (body.startDate as string) ?? null, endDate: (body.endDate as string) ?? null, status: (body.status as 'open') ?? 'open', sharing: (body.sharing as 'none') ?? 'none' };
      d().versions.push(v);
      return { status: 201, body: this.rVersion(v) };
    });

    // Work packages
    const listWorkPackages = ({ user, query }: Ctx, projectId?: number): Reply => {
      const filters = query.has('filters')
        ? this.filters(query, ['status', 'assignee', 'author', 'responsible', 'type', 'priority', 'version', 'project', 'parent', 'subjectOrId', 'search', 'dueDate', 'updatedAt', 'id'])
        : [{ name: 'status', operator: 'o' as const, values: [] }];
      let ws = d().workPackages.filter((w) => this.may(user, w.projectId, 'view') && (projectId === undefined || w.projectId === projectId));
      for (const f of filters) ws = ws.filter((w) => this.wpMatches(w, f, user));
      const sort = query.has('sortBy') ? (JSON.parse(query.get('sortBy')!) as [string, string][]) : [['id', 'asc']];
      const [field, dir] = sort[0] ?? ['id', 'asc'];
      ws = [...ws].sort((a, b) => {
        const av = String((a as unknown as Record<string, unknown>)[field] ?? ''), bv = String((b as unknown as Record<string, unknown>)[field] ?? '');
        const c = field === 'id' ? a.id - b.id : av.localeCompare(bv);
        return dir === 'desc' ? -c : c;
      });
      return ok(this.page(projectId ? `${API}/projects/${projectId}/work_packages` : `${API}/work_packages`, ws.map((w) => this.rWorkPackage(w, user)), query));
    };
    this.on('GET', '/work_packages', (c) => listWorkPackages(c));
    this.on('GET', '/projects/:id/work_packages', (c) => listWorkPackages(c, this.project(c.user, c.params[0]).id));
    this.on('GET', '/work_packages/:id', ({ user, params }) => ok(this.rWorkPackage(this.workPackage(user, params[0]), user)));
    this.on('POST', '/projects/:id/work_packages/form', ({ user, params, body }) => {
      const p = this.project(user, params[0]);
      this.require(user, p.id, 'edit');
      const draft = this.applyChanges(this.blankWorkPackage(p.id, user), body, user);
      return { status: 200, contentType: 'application/json; charset=utf-8', body: this.rForm(draft.wp, draft.errors, user, `${API}/projects/${p.id}/work_packages/form`) };
    });
    this.on('POST', '/work_packages/:id/form', ({ user, params, body }) => {
      const w = this.workPackage(user, params[0]);
      this.require(user, w.projectId, 'edit');
      const draft = this.applyChanges({ ...w }, body, user);
      if (body.lockVersion !== undefined && body.lockVersion !== w.lockVersion) draft.errors.lockVersion = 'Information has been updated by at least one other user in the meantime.';
      return { status: 200, contentType: 'application/json; charset=utf-8', body: this.rForm(draft.wp, draft.errors, user, `${API}/work_packages/${w.id}/form`) };
    });
    this.on('POST', '/projects/:id/work_packages', ({ user, params, body }) => {
      const p = this.project(user, params[0]);
      this.require(user, p.id, 'edit');
      const { wp, errors } = this.applyChanges(this.blankWorkPackage(p.id, user), body, user);
      throwValidation(errors);
      wp.id = this.id();
      d().workPackages.push(wp);
      // The contract documents 200 for this create (OpenProject itself answers 201; the client accepts any 2xx).
      return { status: 200, body: this.rWorkPackage(wp, user) };
    });
    this.on('PATCH', '/work_packages/:id', ({ user, params, body }) => {
      const w = this.workPackage(user, params[0]);
      this.require(user, w.projectId, 'edit');
      if (body.lockVersion === undefined) throw new HttpError(422, 'PropertyMissingError', 'Lock version is missing.', 'lockVersion');
      if (body.lockVersion !== w.lockVersion) {
        throw new HttpError(409, 'UpdateConflict', 'Your changes could not be saved, because the work package was changed by another user in the meantime. Please reload the work package.');
      }
      const { wp, errors } = this.applyChanges({ ...w }, body, user);
      throwValidation(errors);
      const changes = describeChanges(w, wp, this.data);
      Object.assign(w, wp, { lockVersion: w.lockVersion + 1, updatedAt: new Date().toISOString() });
      if (changes.length) d().activities.push(this.newActivity(w.id, user.id, '', false, changes));
      return ok(this.rWorkPackage(w, user));
    });
    this.on('DELETE', '/work_packages/:id', ({ user, params }) => {
      const w = this.workPackage(user, params[0]);
      this.require(user, w.projectId, 'delete');
      d().workPackages = d().workPackages.filter((x) => x.id !== w.id);
      return { status: 204 };
    });
    this.on('GET', '/work_packages/:id/activities', ({ user, params }) => {
      const w = this.workPackage(user, params[0]);
      return ok(collection(`${API}/work_packages/${w.id}/activities`, d().activities.filter((a) => a.workPackageId === w.id).map((a) => this.rActivity(a))));
    });
    this.on('POST', '/work_packages/:id/activities', ({ user, params, body }) => {
      const w = this.workPackage(user, params[0]);
      this.require(user, w.projectId, 'edit');
      const raw = formattableRaw(body.comment);
      if (!raw) throw new HttpError(422, 'PropertyConstraintViolation', "Comment can't be blank.", 'comment');
      d().activities.push(this.newActivity(w.id, user.id, raw, body.internal === true, []));
      // The contract documents 201 without a body for this operation.
      return { status: 201 };
    });
    this.on('GET', '/activities/:id', ({ user, params }) => {
      const a = d().activities.find((x) => String(x.id) === params[0]);
      if (!a) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      this.workPackage(user, a.workPackageId);
      return ok(this.rActivity(a));
    });
    this.on('PATCH', '/activities/:id', ({ user, params, body }) => {
      const a = d().activities.find((x) => String(x.id) === params[0]);
      if (!a) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      this.workPackage(user, a.workPackageId);
      if (a.userId !== user.id && !user.admin) throw new HttpError(403, 'MissingPermission', 'You are not authorized to access this resource.');
      a.comment = formattableRaw(body.comment) ?? a.comment;
      a.updatedAt = new Date().toISOString();
      return ok(this.rActivity(a));
    });
    this.on('GET', '/work_packages/:id/watchers', ({ user, params }) => {
      const w = this.workPackage(user, params[0]);
      const ids = d().watchers[w.id] ?? [];
      return ok(collection(`${API}/work_packages/${w.id}/watchers`, d().users.filter((u) => ids.includes(u.id)).map((u) => this.rUser(u))));
    });
    this.on('POST', '/work_packages/:id/watchers', ({ user, params, body }) => {
      const w = this.workPackage(user, params[0]);
      const target = idOf((body.user as { href?: string } | undefined)?.href);
      if (!target || !d().users.some((u) => u.id === target)) throw new HttpError(422, 'PropertyConstraintViolation', 'User is invalid.', 'user');
      if (target !== user.id) this.require(user, w.projectId, 'edit');
      const list = (d().watchers[w.id] ??= []);
      const existed = list.includes(target);
      if (!existed) list.push(target);
      return { status: existed ? 200 : 201 };
    });
    this.on('DELETE', '/work_packages/:id/watchers/:user', ({ user, params }) => {
      const w = this.workPackage(user, params[0]);
      const target = Number(params[1]);
      if (target !== user.id) this.require(user, w.projectId, 'edit');
      d().watchers[w.id] = (d().watchers[w.id] ?? []).filter((x) => x !== target);
      return { status: 204 };
    });
    this.on('GET', '/work_packages/:id/attachments', ({ user, params }) => {
      const w = this.workPackage(user, params[0]);
      return ok(collection(`${API}/work_packages/${w.id}/attachments`, []));
    });

    // Relations
    this.on('GET', '/relations', ({ user, query }) => {
      const filters = this.filters(query, ['from', 'to', 'involved', 'type', 'id']);
      let rs = d().relations.filter((r) => this.canSee(user, r.fromId) && this.canSee(user, r.toId));
      for (const f of filters) {
        if (f.name === 'involved') rs = rs.filter((r) => f.values.includes(String(r.fromId)) || f.values.includes(String(r.toId)));
        if (f.name === 'from') rs = rs.filter((r) => f.values.includes(String(r.fromId)));
        if (f.name === 'to') rs = rs.filter((r) => f.values.includes(String(r.toId)));
        if (f.name === 'type') rs = rs.filter((r) => f.values.includes(r.type));
      }
      return ok(collection(`${API}/relations`, rs.map((r) => this.rRelation(r))));
    });
    this.on('GET', '/relations/:id', ({ user, params }) => {
      const r = d().relations.find((x) => String(x.id) === params[0] && this.canSee(user, x.fromId) && this.canSee(user, x.toId));
      if (!r) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      return ok(this.rRelation(r));
    });
    this.on('POST', '/work_packages/:id/relations', ({ user, params, body }) => {
      const from = this.workPackage(user, params[0]);
      this.require(user, from.projectId, 'edit');
      const toId = idOf(linkHref(body, 'to'));
      if (!toId || !this.canSee(user, toId)) throw new HttpError(422, 'PropertyConstraintViolation', 'Related work package is invalid.', 'to');
      if (d().relations.some((r) => (r.fromId === from.id && r.toId === toId) || (r.fromId === toId && r.toId === from.id))) {
        throw new HttpError(409, 'UpdateConflict', 'A relation between these work packages already exists.');
      }
      const r = { id: this.id(), fromId: from.id, toId, type: String(body.type ?? 'relates'), description: (body.description as string) ?? null, lag: (body.lag as number) ?? null };
      d().relations.push(r);
      return { status: 201, body: this.rRelation(r) };
    });
    this.on('DELETE', '/relations/:id', ({ user, params }) => {
      const r = d().relations.find((x) => String(x.id) === params[0] && this.canSee(user, x.fromId));
      if (!r) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      this.require(user, this.workPackage(user, r.fromId).projectId, 'edit');
      d().relations = d().relations.filter((x) => x !== r);
      return { status: 204 };
    });

    // Time
    this.on('GET', '/time_entries', ({ user, query }) => {
      const filters = this.filters(query, ['project_id', 'user_id', 'entity_type', 'entity_id', 'work_package_id', 'spent_on', 'activity_id', 'ongoing']);
      let ts = d().timeEntries.filter((t) => this.role(user, t.projectId));
      for (const f of filters) {
        const values = f.values.map((v) => (v === 'me' ? String(user.id) : v));
        if (f.name === 'project_id') ts = ts.filter((t) => values.includes(String(t.projectId)));
        if (f.name === 'user_id') ts = ts.filter((t) => values.includes(String(t.userId)));
        if (f.name === 'entity_id' || f.name === 'work_package_id') ts = ts.filter((t) => values.includes(String(t.workPackageId)));
        if (f.name === 'spent_on' && f.operator === '<>d') ts = ts.filter((t) => (!values[0] || t.spentOn >= values[0]) && (!values[1] || t.spentOn <= values[1]));
      }
      return ok(this.page(`${API}/time_entries`, ts.map((t) => this.rTimeEntry(t, user)), query));
    });
    this.on('GET', '/time_entries/:id', ({ user, params }) => ok(this.rTimeEntry(this.timeEntry(user, params[0]), user)));
    this.on('POST', '/time_entries/form', () => ({
      // The contract documents this 200 without a schema; the fake sends what OpenProject sends.
      status: 200,
      contentType: 'application/hal+json; charset=utf-8',
      body: {
        _type: 'Form',
        _embedded: {
          payload: {},
          schema: {
            _type: 'Schema',
            activity: {
              type: 'TimeEntriesActivity', name: 'Activity', required: true, writable: true,
              _embedded: { allowedValues: this.data.timeEntryActivities.map((a) => ({ _type: 'TimeEntriesActivity', id: a.id, name: a.name, default: a.isDefault, _links: { self: { href: `${API}/time_entries/activities/${a.id}`, title: a.name } } })) },
            },
          },
          validationErrors: {},
        },
        _links: { self: { href: `${API}/time_entries/form`, method: 'post' } },
      },
    }));
    this.on('POST', '/time_entries', ({ user, body }) => {
      const entityHref = linkHref(body, 'entity') ?? linkHref(body, 'workPackage');
      const wpId = idOf(entityHref);
      const wp = wpId ? this.workPackage(user, wpId) : undefined;
      const projectId = wp?.projectId ?? idOf(linkHref(body, 'project'));
      if (!projectId || !this.role(user, projectId)) throw new HttpError(422, 'PropertyConstraintViolation', 'Project is invalid.', 'project');
      this.require(user, projectId, 'edit');
      const hours = parseHours(body.hours);
      if (hours === undefined || hours <= 0) throw new HttpError(422, 'PropertyFormatError', 'Hours is not a valid duration.', 'hours');
      const forUser = idOf(linkHref(body, 'user')) ?? user.id;
      if (forUser !== user.id && !user.admin) throw new HttpError(403, 'MissingPermission', 'You are not authorized to log time for other users.');
      const activityId = idOf(linkHref(body, 'activity')) ?? d().timeEntryActivities.find((a) => a.isDefault)!.id;
      const now = new Date().toISOString();
      const t = { id: this.id(), projectId, workPackageId: wp?.id ?? null, userId: forUser, activityId, hours, spentOn: (body.spentOn as string) ?? now.slice(0, 10), comment: formattableRaw(body.comment) ?? '', createdAt: now, updatedAt: now };
      d().timeEntries.push(t);
      return { status: 201, body: this.rTimeEntry(t, user) };
    });
    this.on('PATCH', '/time_entries/:id', ({ user, params, body }) => {
      const t = this.timeEntry(user, params[0]);
      if (t.userId !== user.id && !user.admin) throw new HttpError(403, 'MissingPermission', 'You are not authorized to access this resource.');
      if (body.hours !== undefined) {
        const hours = parseHours(body.hours);
        if (hours === undefined) throw new HttpError(422, 'PropertyFormatError', 'Hours is not a valid duration.', 'hours');
        t.hours = hours;
      }
      if (body.spentOn !== undefined) t.spentOn = String(body.spentOn);
      if (body.comment !== undefined) t.comment = formattableRaw(body.comment) ?? '';
      const activityId = idOf(linkHref(body, 'activity'));
      if (activityId) t.activityId = activityId;
      t.updatedAt = new Date().toISOString();
      return ok(this.rTimeEntry(t, user));
    });
    this.on('DELETE', '/time_entries/:id', ({ user, params }) => {
      const t = this.timeEntry(user, params[0]);
      if (t.userId !== user.id && !user.admin) throw new HttpError(403, 'MissingPermission', 'You are not authorized to access this resource.');
      d().timeEntries = d().timeEntries.filter((x) => x !== t);
      return { status: 204 };
    });

    // Queries
    this.on('GET', '/queries', ({ user, query }) => {
      const filters = this.filters(query, ['project']);
      let qs = d().queries.filter((q) => q.projectId === null || this.role(user, q.projectId));
      for (const f of filters) if (f.name === 'project') qs = qs.filter((q) => f.values.includes(String(q.projectId)));
      return ok(collection(`${API}/queries`, qs.map((q) => this.rQuery(q, user, new URLSearchParams()))));
    });
    this.on('GET', '/queries/:id', ({ user, params, query }) => {
      const q = d().queries.find((x) => String(x.id) === params[0] && (x.projectId === null || this.role(user, x.projectId)));
      if (!q) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      return ok(this.rQuery(q, user, query));
    });

    // Notifications
    this.on('GET', '/notifications', ({ user, query }) => {
      const filters = this.filters(query, ['readIAN', 'reason', 'project', 'resourceId', 'resourceType', 'id']);
      let ns = d().notifications.filter((n) => n.userId === user.id);
      for (const f of filters) {
        if (f.name === 'readIAN') ns = ns.filter((n) => String(n.readIAN) === f.values[0]);
        if (f.name === 'reason') ns = ns.filter((n) => f.values.includes(n.reason));
        if (f.name === 'project') ns = ns.filter((n) => f.values.includes(String(d().workPackages.find((w) => w.id === n.workPackageId)?.projectId)));
        if (f.name === 'id') ns = ns.filter((n) => f.values.includes(String(n.id)));
      }
      const all = ns.map((n) => this.rNotification(n, user));
      const page = this.page(`${API}/notifications`, all, query);
      return ok({ ...page, _embedded: { ...page._embedded, detailsSchemas: [] } });
    });
    this.on('POST', '/notifications/read_ian', ({ user, query }) => {
      const filters = this.filters(query, ['readIAN', 'reason', 'project', 'resourceId', 'resourceType', 'id']);
      for (const n of d().notifications.filter((x) => x.userId === user.id)) {
        if (filters.every((f) => f.name !== 'id' || f.values.includes(String(n.id)))) n.readIAN = true;
      }
      return { status: 204 };
    });
    this.on('POST', '/notifications/:id/read_ian', ({ user, params }) => {
      const n = d().notifications.find((x) => String(x.id) === params[0] && x.userId === user.id);
      if (!n) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
      n.readIAN = true;
      return { status: 204 };
    });
  }

  // --- filters -------------------------------------------------------------------------

  /** Parses `filters` as OpenProject does: malformed JSON or an unknown filter name is a 400 InvalidQuery. */
  private filters(query: URLSearchParams, known: string[]): Filter[] {
    const raw = query.get('filters');
    if (raw === null) return [];
    let filters: Filter[];
    try {
      filters = parseFilters(raw);
    } catch (e) {
      throw new HttpError(400, 'InvalidQuery', `Filters ${(e as Error).message}.`);
    }
    for (const f of filters) {
      if (!known.includes(f.name)) throw new HttpError(400, 'InvalidQuery', `Filters ${f.name} filter does not exist.`);
    }
    return filters;
  }

  private wpMatches(w: FakeWorkPackage, f: Filter, user: FakeUser): boolean {
    const status = this.data.statuses.find((s) => s.id === w.statusId)!;
    const values = f.values.map((v) => (v === 'me' ? String(user.id) : v));
    const field: Record<string, unknown> = {
      status: w.statusId, assignee: w.assigneeId, author: w.authorId, responsible: w.responsibleId, type: w.typeId, priority: w.priorityId,
      version: w.versionId, project: w.projectId, parent: w.parentId, id: w.id, dueDate: w.dueDate, updatedAt: w.updatedAt.slice(0, 10),
    };
    if (f.name === 'status' && f.operator === 'o') return !status.isClosed;
    if (f.name === 'status' && f.operator === 'c') return status.isClosed;
    if (f.name === 'subjectOrId' || f.name === 'search') return matches(`${w.subject} ${w.id} ${f.name === 'search' ? w.description : ''}`, f);
    const v = field[f.name];
    switch (f.operator) {
      case '=': return values.includes(String(v));
      case '!': return !values.includes(String(v));
      case '*': return v !== null && v !== undefined;
      case '!*': return v === null || v === undefined;
      case '<>d': return v !== null && (!values[0] || String(v) >= values[0]) && (!values[1] || String(v) <= values[1]);
      case '>=': return v !== null && String(v) >= values[0];
      case '<=': return v !== null && String(v) <= values[0];
      default: throw new HttpError(400, 'InvalidQuery', `Filters ${f.name}: operator ${f.operator} is not supported here.`);
    }
  }

  private canSee(user: FakeUser, wpId: number): boolean {
    const w = this.data.workPackages.find((x) => x.id === wpId);
    return Boolean(w && this.may(user, w.projectId, 'view'));
  }

  private timeEntry(user: FakeUser, id: string) {
    const t = this.data.timeEntries.find((x) => String(x.id) === id && this.role(user, x.projectId));
    if (!t) throw new HttpError(404, 'NotFound', 'The requested resource could not be found.');
    return t;
  }

  // --- writes --------------------------------------------------------------------------

  private blankWorkPackage(projectId: number, user: FakeUser): FakeWorkPackage {
    const now = new Date().toISOString();
    return {
      id: 0, projectId, subject: '', description: '', typeId: this.data.types.find((t) => t.isDefault)!.id, statusId: this.data.statuses.find((s) => s.isDefault)!.id,
      priorityId: this.data.priorities.find((p) => p.isDefault)!.id, authorId: user.id, assigneeId: null, responsibleId: null, versionId: null, parentId: null,
      startDate: null, dueDate: null, estimatedHours: null, percentageDone: 0, lockVersion: 0, createdAt: now, updatedAt: now,
    };
  }

  /** Applies a WorkPackageWriteModel body; returns the changed copy and validation errors by attribute. */
  private applyChanges(wp: FakeWorkPackage, body: Record<string, unknown>, user: FakeUser): { wp: FakeWorkPackage; errors: Record<string, string> } {
    const errors: Record<string, string> = {};
    const next = { ...wp };
    if (body.subject !== undefined) next.subject = String(body.subject);
    if (body.description !== undefined) next.description = formattableRaw(body.description) ?? '';
    for (const key of ['startDate', 'dueDate'] as const) if (body[key] !== undefined) next[key] = body[key] as string | null;
    if (body.estimatedTime !== undefined) next.estimatedHours = body.estimatedTime === null ? null : (parseHours(body.estimatedTime) ?? null);
    if (body.percentageDone !== undefined) next.percentageDone = body.percentageDone as number;
    const links = (body._links ?? {}) as Record<string, { href: string | null } | undefined>;
    const ref = (name: string) => (links[name] ? (links[name]!.href === null ? null : (idOf(links[name]!.href) ?? -1)) : undefined);
    const set = <K extends keyof FakeWorkPackage>(name: string, key: K, exists: (id: number) => boolean, nullable: boolean) => {
      const id = ref(name);
      if (id === undefined) return;
      if (id === null ? !nullable : !exists(id)) errors[name] = `${name[0].toUpperCase()}${name.slice(1)} is invalid.`;
      else next[key] = id as FakeWorkPackage[K];
    };
    set('type', 'typeId', (id) => this.data.types.some((t) => t.id === id), false);
    set('priority', 'priorityId', (id) => this.data.priorities.some((p) => p.id === id), false);
    set('assignee', 'assigneeId', (id) => this.data.memberships.some((m) => m.userId === id && m.projectId === next.projectId && m.role === 'Member'), true);
    set('responsible', 'responsibleId', (id) => this.data.memberships.some((m) => m.userId === id && m.projectId === next.projectId), true);
    set('version', 'versionId', (id) => this.data.versions.some((v) => v.id === id && v.projectId === next.projectId && v.status === 'open'), true);
    set('parent', 'parentId', (id) => id !== next.id && this.canSee(user, id), true);
    const statusId = ref('status');
    if (statusId !== undefined && statusId !== wp.statusId) {
      const allowed = this.allowedStatuses(wp);
      if (statusId === null || !allowed.includes(statusId)) errors.status = 'Status is invalid because no valid transition exists from old to new status for the current user\'s roles.';
      else next.statusId = statusId;
    }
    if (!next.subject.trim()) errors.subject = "Subject can't be blank.";
    if (next.startDate && next.dueDate && next.dueDate < next.startDate) errors.dueDate = 'Finish date must be greater than or equal to start date.';
    return { wp: next, errors };
  }

  private allowedStatuses(wp: FakeWorkPackage): number[] {
    if (!wp.id) return this.data.statuses.filter((s) => !s.isClosed).map((s) => s.id);
    return [wp.statusId, ...(this.data.workflows[wp.typeId]?.[wp.statusId] ?? [])];
  }

  private newActivity(workPackageId: number, userId: number, comment: string, internal: boolean, details: string[]) {
    const now = new Date().toISOString();
    const version = this.data.activities.filter((a) => a.workPackageId === workPackageId).length + 1;
    return { id: this.id(), workPackageId, userId, comment, internal, details, createdAt: now, updatedAt: now, version };
  }

  // --- representers --------------------------------------------------------------------

  private page<T>(href: string, all: T[], query: URLSearchParams) {
    const pageSize = Math.min(Number(query.get('pageSize') ?? 20) || 20, 1000);
    const offset = Math.max(Number(query.get('offset') ?? 1) || 1, 1);
    const items = all.slice((offset - 1) * pageSize, offset * pageSize);
    const c = collection(href, items, all.length);
    return {
      ...c,
      pageSize,
      offset,
      _links: {
        ...c._links,
        jumpTo: { href: `${href}?offset=%7Boffset%7D&pageSize=${pageSize}`, templated: true },
        changeSize: { href: `${href}?offset=${offset}&pageSize=%7Bsize%7D`, templated: true },
        ...(offset * pageSize < all.length && { nextByOffset: { href: `${href}?offset=${offset + 1}&pageSize=${pageSize}` } }),
        ...(offset > 1 && { previousByOffset: { href: `${href}?offset=${offset - 1}&pageSize=${pageSize}` } }),
      },
    };
  }

  private rRoot(user: FakeUser) {
    return {
      _type: 'Root',
      instanceName: 'Fake OpenProject',
      ...(user.admin && { coreVersion: '17.4.0' }),
      _links: {
        self: { href: API }, configuration: { href: `${API}/configuration` }, memberships: { href: `${API}/memberships` },
        priorities: { href: `${API}/priorities` }, relations: { href: `${API}/relations` }, statuses: { href: `${API}/statuses` },
        time_entries: { href: `${API}/time_entries` }, types: { href: `${API}/types` }, user: { href: `${API}/users/${user.id}`, title: name(user) },
        userPreferences: { href: `${API}/my_preferences` }, workPackages: { href: `${API}/work_packages` },
      },
    };
  }

  private rUser(u: FakeUser) {
    return {
      _type: 'User', id: u.id, name: name(u), login: u.login, firstName: u.firstName, lastName: u.lastName, email: u.email, admin: u.admin,
      avatar: null, status: 'active', language: 'en', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
      _links: {
        self: { href: `${API}/users/${u.id}`, title: name(u) },
        memberships: { href: `${API}/memberships?filters=${encodeURIComponent(`[{"principal":{"operator":"=","values":["${u.id}"]}}]`)}`, title: 'Memberships' },
        showUser: { href: `/users/${u.id}`, type: 'text/html' },
      },
    };
  }

  private rProject(p: FakeProject) {
    return {
      _type: 'Project', id: p.id, identifier: p.identifier, name: p.name, active: p.active, public: p.public,
      description: formattable(p.description), statusExplanation: formattable(''), createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
      _links: {
        self: { href: `${API}/projects/${p.id}`, title: p.name },
        parent: { href: p.parentId ? `${API}/projects/${p.parentId}` : null },
        status: { href: `${API}/project_statuses/on_track`, title: 'On track' },
        categories: { href: `${API}/projects/${p.id}/categories` },
        types: { href: `${API}/projects/${p.id}/types` },
        versions: { href: `${API}/projects/${p.id}/versions` },
        memberships: { href: `${API}/memberships?filters=${encodeURIComponent(`[{"project":{"operator":"=","values":["${p.id}"]}}]`)}` },
        workPackages: { href: `${API}/projects/${p.id}/work_packages` },
        ancestors: [],
        storages: [],
      },
    };
  }

  private rStatus(s: Dataset['statuses'][number]) {
    return { _type: 'Status', id: s.id, name: s.name, isClosed: s.isClosed, isDefault: s.isDefault, isReadonly: false, position: s.position, color: s.color, defaultDoneRatio: s.isClosed ? 100 : 0, _links: { self: { href: `${API}/statuses/${s.id}`, title: s.name } } };
  }

  private rType(t: Dataset['types'][number]) {
    return { _type: 'Type', id: t.id, name: t.name, color: t.color, position: t.position, isDefault: t.isDefault, isMilestone: t.isMilestone, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', _links: { self: { href: `${API}/types/${t.id}`, title: t.name } } };
  }

  private rPriority(p: Dataset['priorities'][number]) {
    return { _type: 'Priority', id: p.id, name: p.name, position: p.position, isDefault: p.isDefault, isActive: true, _links: { self: { href: `${API}/priorities/${p.id}`, title: p.name } } };
  }

  private rVersion(v: Dataset['versions'][number]) {
    const p = this.data.projects.find((x) => x.id === v.projectId)!;
    return {
      _type: 'Version', id: v.id, name: v.name, description: formattable(v.description, 'plain'), startDate: v.startDate, endDate: v.endDate, status: v.status, sharing: v.sharing,
      createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
      _links: {
        self: { href: `${API}/versions/${v.id}`, title: v.name },
        definingProject: { href: `${API}/projects/${p.id}`, title: p.name },
        availableInProjects: { href: `${API}/versions/${v.id}/projects` },
        schema: { href: `${API}/versions/schema` },
      },
    };
  }

  private rWorkPackage(w: FakeWorkPackage, viewer: FakeUser) {
    const d = this.data;
    const p = d.projects.find((x) => x.id === w.projectId)!;
    const type = d.types.find((t) => t.id === w.typeId)!;
    const status = d.statuses.find((s) => s.id === w.statusId)!;
    const priority = d.priorities.find((x) => x.id === w.priorityId)!;
    const user = (id: number | null) => {
      const u = d.users.find((x) => x.id === id);
      return u ? { href: `${API}/users/${u.id}`, title: name(u) } : { href: null };
    };
    const version = d.versions.find((v) => v.id === w.versionId);
    const parent = d.workPackages.find((x) => x.id === w.parentId);
    const children = d.workPackages.filter((x) => x.parentId === w.id);
    const spent = d.timeEntries.filter((t) => t.workPackageId === w.id).reduce((s, t) => s + t.hours, 0);
    const self = `${API}/work_packages/${w.id}`;
    const edit = this.may(viewer, w.projectId, 'edit');
    const actions = edit
      ? {
          update: { href: `${self}/form`, method: 'post' },
          updateImmediately: { href: self, method: 'patch' },
          addComment: { href: `${self}/activities`, method: 'post', title: 'Add comment' },
          addRelation: { href: `${self}/relations`, method: 'post', title: 'Add relation' },
          addWatcher: { href: `${self}/watchers`, method: 'post', payload: { user: { href: `${API}/users/{user_id}` } }, templated: true },
          logTime: { href: `${API}/time_entries`, title: 'Log time' },
        }
      : {};
    return {
      _type: 'WorkPackage', id: w.id, lockVersion: w.lockVersion, subject: w.subject, description: formattable(w.description),
      scheduleManually: false, startDate: w.startDate, dueDate: w.dueDate, derivedStartDate: null, derivedDueDate: null,
      estimatedTime: w.estimatedHours === null ? null : hoursIso(w.estimatedHours), derivedEstimatedTime: null, spentTime: hoursIso(spent),
      percentageDone: w.percentageDone, derivedPercentageDone: null, ignoreNonWorkingDays: false, readonly: status.isClosed && false,
      createdAt: w.createdAt, updatedAt: w.updatedAt,
      _links: {
        self: { href: self, title: w.subject },
        schema: { href: `${API}/work_packages/schemas/${p.id}-${type.id}` },
        ancestors: parent ? [{ href: `${API}/work_packages/${parent.id}`, title: parent.subject }] : [],
        attachments: { href: `${self}/attachments` },
        author: user(w.authorId),
        assignee: user(w.assigneeId),
        responsible: user(w.responsibleId),
        priority: { href: `${API}/priorities/${priority.id}`, title: priority.name },
        project: { href: `${API}/projects/${p.id}`, title: p.name },
        status: { href: `${API}/statuses/${status.id}`, title: status.name },
        type: { href: `${API}/types/${type.id}`, title: type.name },
        version: version ? { href: `${API}/versions/${version.id}`, title: version.name } : { href: null },
        parent: parent ? { href: `${API}/work_packages/${parent.id}`, title: parent.subject } : { href: null },
        children: children.map((c) => ({ href: `${API}/work_packages/${c.id}`, title: c.subject })),
        activities: { href: `${self}/activities` },
        relations: { href: `${self}/relations` },
        watchers: { href: `${self}/watchers` },
        timeEntries: { href: `${API}/time_entries?filters=${encodeURIComponent(`[{"work_package_id":{"operator":"=","values":["${w.id}"]}}]`)}` },
        ...actions,
        ...(this.may(viewer, w.projectId, 'delete') && { delete: { href: self, method: 'delete' } }),
      },
    };
  }

  private rForm(wp: FakeWorkPackage, errors: Record<string, string>, user: FakeUser, href: string) {
    const rep = this.rWorkPackage(wp.id ? wp : { ...wp, id: 1 }, user);
    const links = rep._links as Record<string, unknown>;
    const payload = {
      subject: wp.subject, description: { format: 'markdown', raw: wp.description }, startDate: wp.startDate, dueDate: wp.dueDate,
      estimatedTime: rep.estimatedTime, percentageDone: wp.percentageDone, ...(wp.id && { lockVersion: wp.lockVersion }),
      _links: Object.fromEntries(['type', 'status', 'priority', 'assignee', 'responsible', 'version', 'parent'].map((k) => [k, { href: (links[k] as { href: string | null }).href }])),
    };
    const allowed = (items: { href: string; title: string }[]) => ({ _links: { allowedValues: items } });
    const member = (role?: string) => this.data.users.filter((u) => this.data.memberships.some((m) => m.userId === u.id && m.projectId === wp.projectId && (!role || m.role === role)));
    const field = (type: string, name: string, required: boolean, extra: object = {}) => ({ type, name, required, hasDefault: false, writable: true, ...extra });
    const statuses = this.allowedStatuses(wp).map((id) => this.data.statuses.find((s) => s.id === id)!);
    const schema = {
      _type: 'Schema',
      _dependencies: [],
      lockVersion: { type: 'Integer', name: 'Lock Version', required: true, hasDefault: false, writable: false },
      id: { type: 'Integer', name: 'ID', required: true, hasDefault: false, writable: false },
      subject: field('String', 'Subject', true, { minLength: 1, maxLength: 255 }),
      description: field('Formattable', 'Description', false),
      startDate: field('Date', 'Start date', false),
      dueDate: field('Date', 'Finish date', false),
      estimatedTime: field('Duration', 'Work', false),
      percentageDone: field('Integer', '% Complete', false),
      type: field('Type', 'Type', true, allowed(this.data.types.map((t) => ({ href: `${API}/types/${t.id}`, title: t.name })))),
      status: field('Status', 'Status', true, allowed(statuses.map((s) => ({ href: `${API}/statuses/${s.id}`, title: s.name })))),
      priority: field('Priority', 'Priority', true, allowed(this.data.priorities.map((x) => ({ href: `${API}/priorities/${x.id}`, title: x.name })))),
      assignee: field('User', 'Assignee', false, allowed(member('Member').map((u) => ({ href: `${API}/users/${u.id}`, title: name(u) })))),
      responsible: field('User', 'Accountable', false, allowed(member().map((u) => ({ href: `${API}/users/${u.id}`, title: name(u) })))),
      version: field('Version', 'Version', false, allowed(this.data.versions.filter((v) => v.projectId === wp.projectId && v.status === 'open').map((v) => ({ href: `${API}/versions/${v.id}`, title: v.name })))),
      parent: field('WorkPackage', 'Parent', false),
      _links: {},
    };
    const validationErrors = Object.fromEntries(
      Object.entries(errors).map(([attribute, message]) => [attribute, { _type: 'Error', errorIdentifier: `${ERR}PropertyConstraintViolation`, message, _embedded: { details: { attribute } } }]),
    );
    return {
      _type: 'Form',
      _embedded: { payload, schema, validationErrors },
      _links: { self: { href, method: 'post' }, validate: { href, method: 'post' }, ...(Object.keys(errors).length === 0 && { commit: { href: wp.id ? `${API}/work_packages/${wp.id}` : `${API}/projects/${wp.projectId}/work_packages`, method: wp.id ? 'patch' : 'post' } }) },
    };
  }

  private rActivity(a: Dataset['activities'][number]) {
    const u = this.data.users.find((x) => x.id === a.userId)!;
    return {
      _type: 'Activity::Comment', id: a.id, version: a.version, comment: formattable(a.comment), details: a.details.map((t) => formattable(t, 'custom')),
      internal: a.internal, createdAt: a.createdAt, updatedAt: a.updatedAt,
      _links: {
        self: { href: `${API}/activities/${a.id}` },
        workPackage: { href: `${API}/work_packages/${a.workPackageId}` },
        user: { href: `${API}/users/${u.id}`, title: name(u) },
        update: { href: `${API}/activities/${a.id}`, method: 'patch' },
      },
    };
  }

  private rRelation(r: Dataset['relations'][number]) {
    const reverse: Record<string, string> = { relates: 'relates', duplicates: 'duplicated', duplicated: 'duplicates', blocks: 'blocked', blocked: 'blocks', precedes: 'follows', follows: 'precedes', includes: 'partof', partof: 'includes', requires: 'required', required: 'requires' };
    const wp = (id: number) => this.data.workPackages.find((w) => w.id === id);
    return {
      _type: 'Relation', id: r.id, name: r.type, type: r.type, reverseType: reverse[r.type] ?? r.type, description: r.description, lag: r.lag,
      _links: {
        self: { href: `${API}/relations/${r.id}` },
        delete: { href: `${API}/relations/${r.id}`, method: 'delete' },
        from: { href: `${API}/work_packages/${r.fromId}`, title: wp(r.fromId)?.subject },
        to: { href: `${API}/work_packages/${r.toId}`, title: wp(r.toId)?.subject },
      },
    };
  }

  private rTimeEntry(t: Dataset['timeEntries'][number], viewer: FakeUser) {
    const u = this.data.users.find((x) => x.id === t.userId)!;
    const p = this.data.projects.find((x) => x.id === t.projectId)!;
    const a = this.data.timeEntryActivities.find((x) => x.id === t.activityId)!;
    const w = this.data.workPackages.find((x) => x.id === t.workPackageId);
    const own = t.userId === viewer.id || viewer.admin;
    return {
      _type: 'TimeEntry', id: t.id, comment: formattable(t.comment, 'plain'), spentOn: t.spentOn, hours: hoursIso(t.hours), ongoing: false,
      startTime: null, endTime: null, createdAt: t.createdAt, updatedAt: t.updatedAt,
      _links: {
        self: { href: `${API}/time_entries/${t.id}` },
        ...(own && { updateImmediately: { href: `${API}/time_entries/${t.id}`, method: 'patch' }, delete: { href: `${API}/time_entries/${t.id}`, method: 'delete' } }),
        project: { href: `${API}/projects/${p.id}`, title: p.name },
        entity: w ? { href: `${API}/work_packages/${w.id}`, title: w.subject } : { href: null },
        user: { href: `${API}/users/${u.id}`, title: name(u) },
        activity: { href: `${API}/time_entries/activities/${a.id}`, title: a.name },
      },
    };
  }

  private rMembership(m: Dataset['memberships'][number]) {
    const u = this.data.users.find((x) => x.id === m.userId)!;
    const p = this.data.projects.find((x) => x.id === m.projectId)!;
    return {
      _type: 'Membership', id: m.id, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
      _links: {
        self: { href: `${API}/memberships/${m.id}` },
        schema: { href: `${API}/memberships/schema` },
        project: { href: `${API}/projects/${p.id}`, title: p.name },
        principal: { href: `${API}/users/${u.id}`, title: name(u) },
        roles: [{ href: `${API}/roles/${m.role === 'Member' ? 4 : 5}`, title: m.role }],
      },
    };
  }

  private rQuery(q: Dataset['queries'][number], user: FakeUser, query: URLSearchParams) {
    const p = this.data.projects.find((x) => x.id === q.projectId);
    const filters = parseFilters(q.filters);
    const ws = this.data.workPackages.filter((w) => (q.projectId === null || w.projectId === q.projectId) && this.may(user, w.projectId, 'view') && filters.every((f) => this.wpMatches(w, f, user)));
    const results = this.page(`${API}/queries/${q.id}`, ws.map((w) => this.rWorkPackage(w, user)), query);
    return {
      _type: 'Query', id: q.id, name: q.name, public: q.public, starred: false, sums: false, hidden: false,
      filters: filters.map((f) => ({
        _type: 'QueryFilterInstance', name: f.name, values: f.values,
        _links: { schema: { href: `${API}/queries/filter_instance_schemas/${f.name}` }, filter: { href: `${API}/queries/filters/${f.name}` }, operator: { href: `${API}/queries/operators/${encodeURIComponent(f.operator)}` }, values: [] },
      })),
      createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
      _embedded: { results },
      _links: { self: { href: `${API}/queries/${q.id}`, title: q.name }, project: p ? { href: `${API}/projects/${p.id}`, title: p.name } : { href: null }, results: { href: `${API}/projects/${p?.id}/work_packages` } },
    };
  }

  private rNotification(n: Dataset['notifications'][number], user: FakeUser) {
    const w = this.data.workPackages.find((x) => x.id === n.workPackageId)!;
    const p = this.data.projects.find((x) => x.id === w.projectId)!;
    const actor = this.data.users.find((x) => x.id === n.actorId)!;
    return {
      _type: 'Notification', id: n.id, reason: n.reason, readIAN: n.readIAN, details: [], createdAt: n.createdAt, updatedAt: n.createdAt,
      _embedded: { actor: this.rUser(actor), project: this.rProject(p), resource: this.rWorkPackage(w, user) },
      _links: {
        self: { href: `${API}/notifications/${n.id}` },
        ...(n.readIAN ? { unreadIAN: { href: `${API}/notifications/${n.id}/unread_ian`, method: 'post' } } : { readIAN: { href: `${API}/notifications/${n.id}/read_ian`, method: 'post' } }),
        project: { href: `${API}/projects/${p.id}`, title: p.name },
        actor: { href: `${API}/users/${actor.id}`, title: name(actor) },
        resource: { href: `${API}/work_packages/${w.id}`, title: w.subject },
        activity: { href: null },
      },
    };
  }
}

// --- helpers -------------------------------------------------------------------------------

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function collection<T>(href: string, elements: T[], total = elements.length) {
  return { _type: 'Collection', total, count: elements.length, _embedded: { elements }, _links: { self: { href } } };
}

function errorBody(e: HttpError) {
  return {
    _type: 'Error',
    errorIdentifier: `${ERR}${e.identifier}`,
    message: e.message,
    ...(e.attribute && { _embedded: { details: { attribute: e.attribute } } }),
  };
}

function throwValidation(errors: Record<string, string>): void {
  const entries = Object.entries(errors);
  if (entries.length) throw new HttpError(422, 'PropertyConstraintViolation', entries.map(([, m]) => m).join(' '), entries[0][0]);
}

function name(u: FakeUser): string {
  return `${u.firstName} ${u.lastName}`;
}

function formattable(raw: string, format: 'markdown' | 'plain' | 'custom' = 'markdown') {
  return { format, raw, html: raw ? `<p>${raw.replace(/[<>&]/g, '')}</p>` : '' };
}

function formattableRaw(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'raw' in value) return String((value as { raw: unknown }).raw ?? '');
  return undefined;
}

function linkHref(body: Record<string, unknown>, name: string): string | undefined {
  return ((body._links as Record<string, { href?: string }> | undefined)?.[name]?.href) ?? undefined;
}

function idOf(href: string | null | undefined): number | undefined {
  const m = href ? /\/(\d+)$/.exec(href) : null;
  return m ? Number(m[1]) : undefined;
}

function matches(text: string, f: Filter): boolean {
  const hit = f.values.some((v) => text.toLowerCase().includes(v.toLowerCase()));
  return f.operator === '!~' ? !hit : hit;
}

function hoursIso(hours: number): string {
  const minutes = Math.round(hours * 60);
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return `PT${h || !m ? `${h}H` : ''}${m ? `${m}M` : ''}`;
}

function parseHours(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?$/.exec(value);
  if (!m || value === 'PT') return undefined;
  return Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60;
}

function describeChanges(before: FakeWorkPackage, after: FakeWorkPackage, d: Dataset): string[] {
  const changes: string[] = [];
  if (before.subject !== after.subject) changes.push(`Subject changed from ${before.subject} to ${after.subject}`);
  if (before.statusId !== after.statusId) {
    const s = (id: number) => d.statuses.find((x) => x.id === id)?.name;
    changes.push(`Status changed from ${s(before.statusId)} to ${s(after.statusId)}`);
  }
  if (before.assigneeId !== after.assigneeId) changes.push('Assignee changed');
  if (before.dueDate !== after.dueDate) changes.push(`Finish date set to ${after.dueDate}`);
  if (before.description !== after.description) changes.push('Description changed');
  return changes;
}
