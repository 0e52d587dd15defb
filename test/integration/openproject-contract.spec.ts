import { filter, OpenProjectClient, OpenProjectError, OpenProjectErrorCode } from '@portico/openproject-client';
import { API_KEYS } from '../fakes/openproject/dataset';
import { FakeOpenProject } from '../fakes/openproject/fake-openproject';
import { OpenApiContract } from '../fakes/openproject/openapi-contract';

/**
 * The fake OpenProject against OpenProject's published OpenAPI contract: every
 * endpoint the client uses, called through the real client, answers with a
 * response that validates; a response that drifts from the contract fails.
 */
describe('fake OpenProject vs the API v3 contract', () => {
  const fake = new FakeOpenProject();
  let admin: OpenProjectClient;
  let alice: OpenProjectClient;

  beforeAll(async () => {
    await fake.start();
    admin = new OpenProjectClient({ baseUrl: fake.url, retries: 0 }, API_KEYS.admin);
    alice = admin.withApiKey(API_KEYS.alice);
  });
  beforeEach(() => fake.reset());
  afterEach(() => expect(fake.violations).toEqual([]));
  afterAll(async () => {
    await admin.close();
    await fake.stop();
  });

  /** Each call, and the contract operation its response must validate against. */
  const calls: [string, (c: OpenProjectClient) => Promise<unknown>][] = [
    ['GET /api/v3', (c) => c.root()],
    ['GET /api/v3/configuration', (c) => c.configuration()],
    ['GET /api/v3/users/{id}', (c) => c.me()],
    ['GET /api/v3/principals', (c) => c.principals({ filters: [filter('name', '~', ['ali'])] })],
    ['GET /api/v3/projects/{id}/available_assignees', (c) => c.availableAssignees('apollo')],
    ['GET /api/v3/memberships', (c) => c.memberships({ filters: [filter('project', '=', [1])] })],
    ['GET /api/v3/projects', (c) => c.projects({ filters: [filter('active', '=', ['t'])], pageSize: 1, offset: 2 })],
    ['GET /api/v3/projects/{id}', (c) => c.project('apollo')],
    ['GET /api/v3/projects/{id}/types', (c) => c.types('apollo')],
    ['GET /api/v3/projects/{id}/versions', (c) => c.versions({ project: 1 })],
    ['GET /api/v3/statuses', (c) => c.statuses()],
    ['GET /api/v3/types', (c) => c.types()],
    ['GET /api/v3/priorities', (c) => c.priorities()],
    ['GET /api/v3/versions', (c) => c.versions({ filters: [] })],
    ['GET /api/v3/versions/{id}', (c) => c.version(1)],
    ['POST /api/v3/versions', (c) => c.createVersion({ name: 'Sprint 2', _links: { definingProject: { href: '/api/v3/projects/1' } } })],
    ['GET /api/v3/work_packages', (c) => c.workPackages({ filters: [], sortBy: [['updatedAt', 'desc']], pageSize: 2 })],
    ['GET /api/v3/projects/{id}/work_packages', (c) => c.workPackages({ project: 'apollo', filters: [filter('assignee', '=', ['me'])] })],
    ['GET /api/v3/work_packages/{id}', (c) => c.workPackage(101)],
    ['POST /api/v3/projects/{id}/work_packages/form', (c) => c.workPackageCreateForm(1, { subject: '' })],
    ['POST /api/v3/work_packages/{id}/form', (c) => c.workPackageUpdateForm(101, { lockVersion: 3, subject: 'New subject' })],
    ['POST /api/v3/projects/{id}/work_packages', (c) => c.createWorkPackage(1, { subject: 'Created' }, false)],
    ['PATCH /api/v3/work_packages/{id}', (c) => c.updateWorkPackage(101, { lockVersion: 3, subject: 'Renamed' })],
    ['DELETE /api/v3/work_packages/{id}', (c) => c.deleteWorkPackage(104)],
    ['GET /api/v3/work_packages/{id}/activities', (c) => c.activities(101)],
    ['POST /api/v3/work_packages/{id}/activities', (c) => c.addComment(101, 'Looks good')],
    ['GET /api/v3/activities/{id}', (c) => c.activity(1001)],
    ['PATCH /api/v3/activities/{id}', (c) => c.updateComment(1001, 'Edited')],
    ['GET /api/v3/work_packages/{id}/watchers', (c) => c.watchers(101)],
    ['POST /api/v3/work_packages/{id}/watchers', (c) => c.addWatcher(101, 5)],
    ['DELETE /api/v3/work_packages/{id}/watchers/{user_id}', (c) => c.removeWatcher(101, 4)],
    ['GET /api/v3/work_packages/{id}/attachments', (c) => c.attachments(101)],
    ['GET /api/v3/relations', (c) => c.relations({ filters: [filter('involved', '=', [101])] })],
    ['GET /api/v3/relations/{id}', (c) => c.relation(501)],
    ['POST /api/v3/work_packages/{id}/relations', (c) => c.createRelation(103, { type: 'relates', _links: { to: { href: '/api/v3/work_packages/101' } } })],
    ['DELETE /api/v3/relations/{id}', (c) => c.deleteRelation(501)],
    ['GET /api/v3/time_entries', (c) => c.timeEntries({ filters: [filter('spent_on', '<>d', ['2026-11-01', '2026-11-30'])] })],
    ['GET /api/v3/time_entries/{id}', (c) => c.timeEntry(301)],
    ['POST /api/v3/time_entries/form', (c) => c.timeEntryForm({})],
    ['POST /api/v3/time_entries', (c) => c.createTimeEntry({ hours: 'PT1H30M', spentOn: '2026-11-04', _links: { entity: { href: '/api/v3/work_packages/101' } } })],
    ['PATCH /api/v3/time_entries/{id}', (c) => c.updateTimeEntry(301, { hours: 'PT3H' })],
    ['DELETE /api/v3/time_entries/{id}', (c) => c.deleteTimeEntry(301)],
    ['GET /api/v3/queries', (c) => c.queries({ filters: [filter('project', '=', [1])] })],
    ['GET /api/v3/queries/{id}', (c) => c.query(21, { pageSize: 10 })],
    ['GET /api/v3/notifications', (c) => c.notifications({ filters: [filter('readIAN', '=', ['f'])] })],
    ['POST /api/v3/notifications/{id}/read_ian', (c) => c.markNotificationRead(901)],
    ['POST /api/v3/notifications/read_ian', (c) => c.markNotificationsRead([filter('id', '=', [901])])],
  ];

  it.each(calls)('%s: the response validates', async (operation, call) => {
    // Alice owns the seeded time entry and her notifications; the admin may do the rest (delete included).
    const client = /time_entries\/\{id\}|notifications/.test(operation) ? alice : admin;
    await call(client);
    const contract = OpenApiContract.load();
    const answered = fake.requests.filter((r) => `${r.method} ${contract.route(r.path)}` === operation);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((r) => r.status >= 200 && r.status < 300)).toBe(true);
  });

  it.each([
    ['401 Unauthenticated', () => admin.withApiKey('wrong').me(), OpenProjectErrorCode.Unauthenticated],
    ['404 NotFound', () => alice.workPackage(999), OpenProjectErrorCode.NotFound],
    ['403 MissingPermission', () => alice.deleteWorkPackage(101), OpenProjectErrorCode.PermissionDenied],
    ['409 UpdateConflict', () => admin.updateWorkPackage(101, { lockVersion: 1, subject: 'stale' }), OpenProjectErrorCode.Conflict],
    ['422 PropertyConstraintViolation', () => admin.createWorkPackage(1, { subject: '' }), OpenProjectErrorCode.Validation],
    ['400 InvalidQuery (filters JSON)', () => admin.get('/api/v3/work_packages', { filters: '{"status":' }), OpenProjectErrorCode.InvalidRequest],
    ['400 InvalidQuery (unknown filter)', () => admin.workPackages({ filters: [filter('colour', '=', ['red'])] }), OpenProjectErrorCode.InvalidRequest],
  ])('error %s validates as an ErrorResponse and maps to its code', async (_name, call, code) => {
    const error = await call().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(OpenProjectError);
    expect((error as OpenProjectError).code).toBe(code);
    expect((error as OpenProjectError).message).not.toMatch(/HTTP \d+/);
  });

  describe('drift', () => {
    it('a work package whose lockVersion became a string fails validation', async () => {
      fake.tamper = (op, body) => (op.path === '/api/v3/work_packages/101' ? { ...(body as object), lockVersion: '3' } : body);

      await expect(admin.workPackage(101)).rejects.toMatchObject({ code: OpenProjectErrorCode.ServerError });
      expect(fake.violations).toEqual([expect.stringMatching(/GET \/api\/v3\/work_packages\/\{id\} 200: \/lockVersion must be integer/)]);
      fake.violations.length = 0;
    });

    it('a collection without total fails, and so does an error body without errorIdentifier', async () => {
      fake.tamper = (_op, body) => {
        const { total: _t, errorIdentifier: _e, ...rest } = body as Record<string, unknown>;
        return rest;
      };

      await expect(admin.statuses()).rejects.toBeInstanceOf(OpenProjectError);
      await expect(admin.workPackage(999)).rejects.toBeInstanceOf(OpenProjectError);
      expect(fake.violations).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/GET \/api\/v3\/statuses 200: .* must have required property 'total'/),
          expect.stringMatching(/GET \/api\/v3\/work_packages\/\{id\} 404: .* must have required property 'errorIdentifier'/),
        ]),
      );
      fake.violations.length = 0;
    });

    it('a body where the contract declares none fails', () => {
      const result = OpenApiContract.load().validate({ method: 'DELETE', path: '/api/v3/work_packages/1', status: 204, contentType: 'application/hal+json', body: {} });

      expect(result).toMatchObject({ ok: false, errors: [expect.stringContaining('declares no body')] });
    });

    it('an undocumented success status fails', () => {
      const result = OpenApiContract.load().validate({ method: 'GET', path: '/api/v3/statuses', status: 201, contentType: 'application/hal+json', body: {} });

      expect(result).toMatchObject({ ok: false, errors: [expect.stringContaining('status 201 is not documented')] });
    });
  });
});
