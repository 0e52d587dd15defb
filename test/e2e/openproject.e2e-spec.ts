import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { randomBytes } from 'node:crypto';
import { API_KEYS } from '../fakes/openproject/dataset';
import { FakeOpenProject } from '../fakes/openproject/fake-openproject';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';

type CallResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { type: string; text?: string }[] };

async function connect(portico: TestPortico, token: string): Promise<Client> {
  const client = new Client({ name: 'e2e-openproject', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(token) } }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallResult> {
  return (await client.callTool({ name, arguments: args })) as CallResult;
}

const text = (r: CallResult) => r.content.map((c) => c.text ?? '').join('\n');

/**
 * The OpenProject tools over MCP: the real app, the official v2 client, and
 * the fake OpenProject (every response of which is checked against
 * OpenProject's published contract).
 */
describe('OpenProject over MCP', () => {
  const fake = new FakeOpenProject();

  beforeAll(async () => {
    await fake.start();
  });
  afterEach(() => expect(fake.violations).toEqual([]));
  afterAll(async () => {
    await fake.stop();
  });

  describe('service account with work packages, comments and time enabled', () => {
    let portico: TestPortico;
    let client: Client;

    beforeAll(async () => {
      fake.reset();
      portico = await bootPortico({ OPENPROJECT_URL: fake.url, OPENPROJECT_API_KEY: API_KEYS.alice, OPENPROJECT_WRITE: 'workPackages,comments,time', OPENPROJECT_WEB_URL: 'https://pm.example.com' });
      client = await connect(portico, TOKENS.alice);
    });
    afterAll(async () => {
      await client?.close();
      await portico?.stop();
    });

    it('lists the tools with annotations and scopes-appropriate hints', async () => {
      const { tools } = await client.listTools();
      const op = tools.filter((t) => t.name.startsWith('openproject_'));

      expect(op).toHaveLength(32);
      expect(op.every((t) => t.annotations?.openWorldHint === false)).toBe(true);
      expect(tools.find((t) => t.name === 'openproject_search_work_packages')?.annotations).toMatchObject({ readOnlyHint: true });
      expect(tools.find((t) => t.name === 'openproject_delete_work_package')?.annotations).toMatchObject({ destructiveHint: true });
      expect(tools.find((t) => t.name === 'openproject_update_work_package')?.outputSchema).toBeDefined();
      // Per-user linking exists only in per-user mode.
      expect(tools.map((t) => t.name)).not.toContain('openproject_link_account');
    });

    it('search → get → stale update refused → fresh update → comment → log time → delete refused; each audited as the OpenProject user', async () => {
      const before = new Date();
      const found = await call(client, 'openproject_search_work_packages', { project: 'apollo', assignee: 'me', status: 'open' });
      expect(found.isError).toBeFalsy();
      const rows = found.structuredContent as { items: { id: number; subject: string; status: { name: string }; lockVersion: number; url: string }[]; total: number; page: number; nextPage: number | null };
      expect(rows).toMatchObject({ total: 1, page: 1, nextPage: null });
      expect(rows.items[0]).toMatchObject({ id: 101, subject: 'Design the launch checklist', status: { name: 'In progress' }, url: 'https://pm.example.com/work_packages/101' });
      // Compact, never raw HAL.
      expect(JSON.stringify(found.structuredContent)).not.toMatch(/_links|_embedded|_type/);

      const got = await call(client, 'openproject_get_work_package', { id: 101, include: ['comments', 'relations'] });
      const wp = got.structuredContent as { lockVersion: number; description: string; comments: { markdown: string }[]; relations: { type: string }[]; can: { edit: boolean } };
      expect(wp).toMatchObject({ lockVersion: 3, description: 'Details of design the launch checklist.', can: { edit: true } });
      expect(wp.comments.map((c) => c.markdown)).toEqual(['Should the checklist cover the **fallback** site?']);
      expect(wp.relations).toEqual([expect.objectContaining({ type: 'blocks' })]);

      // Someone else changes it meanwhile.
      fake.data.workPackages.find((w) => w.id === 101)!.lockVersion = 4;
      const stale = await call(client, 'openproject_update_work_package', { id: 101, lockVersion: 3, dueDate: '2026-11-27' });
      expect(stale.isError).toBe(true);
      expect(text(stale)).toContain('changed by someone else since lockVersion 3');
      expect(text(stale)).toContain('now at lockVersion 4');
      expect(text(stale)).toContain('openproject_get_work_package');
      expect(fake.data.workPackages.find((w) => w.id === 101)!.dueDate).toBe('2026-11-20');

      const fresh = await call(client, 'openproject_update_work_package', { id: 101, lockVersion: 4, dueDate: '2026-11-27', status: 'Closed' });
      expect(fresh.isError).toBeFalsy();
      expect(fresh.structuredContent).toMatchObject({ saved: true, workPackage: { lockVersion: 5, dueDate: '2026-11-27', status: { name: 'Closed' } } });

      const commented = await call(client, 'openproject_add_comment', { workPackageId: 101, comment: 'Closed after the **review**.' });
      expect(commented.structuredContent).toMatchObject({ saved: true, workPackageId: 101 });
      expect(fake.data.activities.at(-1)).toMatchObject({ workPackageId: 101, comment: 'Closed after the **review**.', userId: 4 });

      const logged = await call(client, 'openproject_log_time', { workPackageId: 101, hours: 1.5, spentOn: '2026-11-25', activity: 'Management', comment: 'Review' });
      expect(logged.structuredContent).toMatchObject({ hours: 1.5, spentOn: '2026-11-25', activity: { name: 'Management' }, workPackage: { id: 101 } });
      expect(fake.requestsTo('POST', '/api/v3/time_entries')[0].body).toMatchObject({ hours: 'PT1H30M' });

      const noConfirm = await call(client, 'openproject_delete_work_package', { id: 101 });
      expect(noConfirm.isError).toBe(true);
      expect(text(noConfirm)).toContain('Deleting is disabled');
      const confirmed = await call(client, 'openproject_delete_work_package', { id: 101, confirm: true });
      expect(text(confirmed)).toContain('OPENPROJECT_ALLOW_DELETE=false');
      expect(fake.requestsTo('DELETE', '/api/v3/work_packages/101')).toEqual([]);

      const audit = await portico.auditRows(`kind = 'tool_call' AND namespace = 'openproject' AND occurred_at >= $1`, [before]);
      expect(audit.map((r) => [r.tool, r.outcome, r.error_code])).toEqual([
        ['openproject_search_work_packages', 'ok', null],
        ['openproject_get_work_package', 'ok', null],
        ['openproject_update_work_package', 'tool_error', 'openproject.conflict'],
        ['openproject_update_work_package', 'ok', null],
        ['openproject_add_comment', 'ok', null],
        ['openproject_log_time', 'ok', null],
        ['openproject_delete_work_package', 'tool_error', 'openproject.delete_disabled'],
        ['openproject_delete_work_package', 'tool_error', 'openproject.delete_disabled'],
      ]);
      for (const row of audit.slice(0, 6)) {
        expect(row.principal_id).toBe('token:alice');
        expect(row.detail).toMatchObject({ openproject: { identity: 'service', user: { id: 4, login: 'alice', name: 'Alice Lindqvist' } } });
      }
      expect(audit[6].detail).toMatchObject({ refusal: { reason: 'openproject.delete_disabled' } });
      expect(audit[6].error_message).toContain('Deleting is disabled');
    });

    it.each([
      ['openproject_whoami', {}],
      ['openproject_instance_info', {}],
      ['openproject_list_projects', { query: 'apo' }],
      ['openproject_get_project', { project: 'Apollo' }],
      ['openproject_search_work_packages', { project: 'apollo', text: 'launch', status: 'all', type: 'Bug', priority: 'High', assignee: 'Bob', dueFrom: '2026-11-01', dueTo: '2026-11-30', sortBy: 'dueDate', order: 'asc' }],
      ['openproject_search_work_packages', { assignee: 'none', version: 'Sprint 1', project: 'apollo' }],
      ['openproject_get_work_package', { id: '#102', include: ['comments', 'relations', 'children', 'watchers', 'attachments', 'timeEntries'] }],
      ['openproject_list_comments', { workPackageId: 101, includeChanges: true }],
      ['openproject_describe_work_package_fields', { workPackageId: 102 }],
      ['openproject_describe_work_package_fields', { project: 'apollo' }],
      ['openproject_list_statuses', {}],
      ['openproject_list_types', { project: 'apollo' }],
      ['openproject_list_priorities', {}],
      ['openproject_list_versions', { project: 'apollo', status: 'open' }],
      ['openproject_search_users', { query: 'bob' }],
      ['openproject_search_users', { project: 'apollo' }],
      ['openproject_list_memberships', { project: 'apollo' }],
      ['openproject_list_time_entries', { user: 'me', from: '2026-11-01', to: '2026-11-30' }],
      ['openproject_list_time_entry_activities', { project: 'apollo' }],
      ['openproject_list_queries', { project: 'apollo' }],
      ['openproject_run_query', { queryId: 21 }],
      ['openproject_list_relations', { workPackageId: 101 }],
      ['openproject_list_notifications', { unreadOnly: false }],
      ['openproject_create_work_package', { project: 'apollo', subject: 'Dry run', type: 'Bug', assignee: 'me', dryRun: true }],
      ['openproject_create_work_package', { project: 'apollo', subject: 'Book the venue', type: 'Task', priority: 'High', assignee: 'Bob Okafor', version: 'Sprint 1', parent: 104, description: 'See **notes**', estimatedHours: 2 }],
      ['openproject_update_work_package', { id: 102, status: 'In progress', assignee: 'none', dryRun: true }],
      ['openproject_update_time_entry', { id: 301, hours: 3, comment: 'Second draft' }],
      ['openproject_watch_work_package', { workPackageId: 102, watch: true }],
      ['openproject_watch_work_package', { workPackageId: 102, watch: false }],
    ])('%s answers its output schema (%j)', async (tool, args) => {
      const r = await call(client, tool, args);

      expect([tool, r.isError ? text(r) : 'ok']).toEqual([tool, 'ok']);
      expect(r.structuredContent).toBeDefined();
    });

    it('reports OpenProject\'s validation through the form without saving', async () => {
      const r = await call(client, 'openproject_update_work_package', { id: 102, status: 'Closed', dueDate: '2026-01-01', startDate: '2026-02-01', dryRun: true });

      expect(r.structuredContent).toMatchObject({ saved: false, validationErrors: { dueDate: expect.stringContaining('Finish date') } });
    });

    it('refuses a write category that is not enabled, and audits why', async () => {
      const r = await call(client, 'openproject_create_relation', { from: 103, to: 101, type: 'relates' });

      expect(r.isError).toBe(true);
      expect(text(r)).toContain('Writing relations is disabled');
      const [row] = await portico.auditRows(`tool = 'openproject_create_relation'`);
      expect(row).toMatchObject({ outcome: 'tool_error', error_code: 'openproject.write_disabled', detail: { refusal: { reason: 'openproject.write_disabled', category: 'relations' } } });
      expect(fake.requestsTo('POST', '/api/v3/work_packages/103/relations')).toEqual([]);
    });

    it('serves the prompts', async () => {
      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['openproject_project_status_report', 'openproject_my_open_work', 'openproject_version_summary']));
      const got = await client.getPrompt({ name: 'openproject_version_summary', arguments: { project: 'apollo', version: 'Sprint 1' } });
      expect((got.messages[0].content as { text: string }).text).toContain('openproject_search_work_packages {"project": "apollo", "version": "Sprint 1"');
    });
  });

  describe('read-only, project allow-list, deletes enabled', () => {
    let portico: TestPortico;
    let client: Client;

    beforeAll(async () => {
      fake.reset();
      portico = await bootPortico({ OPENPROJECT_URL: fake.url, OPENPROJECT_API_KEY: API_KEYS.admin, OPENPROJECT_PROJECTS: 'zeus', OPENPROJECT_ALLOW_DELETE: 'true' });
      client = await connect(portico, TOKENS.bob);
    });
    afterAll(async () => {
      await client?.close();
      await portico?.stop();
    });

    it('refuses every write category while OPENPROJECT_WRITE is empty, audited', async () => {
      const attempts: [string, Record<string, unknown>, string][] = [
        ['openproject_create_work_package', { project: 'zeus', subject: 'New' }, 'workPackages'],
        ['openproject_add_comment', { workPackageId: 201, comment: 'hi' }, 'comments'],
        ['openproject_log_time', { workPackageId: 201, hours: 1 }, 'time'],
        ['openproject_create_relation', { from: 201, to: 201, type: 'relates' }, 'relations'],
        ['openproject_create_version', { project: 'zeus', name: 'v1' }, 'versions'],
        ['openproject_mark_notifications_read', { all: true }, 'notifications'],
      ];
      for (const [tool, args, category] of attempts) {
        const r = await call(client, tool, args);
        expect([tool, r.isError, text(r)]).toEqual([tool, true, expect.stringContaining(`Writing ${category} is disabled`)]);
        const rows = await portico.auditRows(`tool = $1`, [tool]);
        expect(rows.at(-1)).toMatchObject({ principal_id: 'token:bob', error_code: 'openproject.write_disabled', detail: { refusal: { category } } });
      }
      expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    });

    it('refuses work packages outside the allowed projects, audited, and lists only allowed ones', async () => {
      const r = await call(client, 'openproject_get_work_package', { id: 101 });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('Project Apollo is not among the projects this Portico may use (zeus)');
      const [row] = await portico.auditRows(`tool = 'openproject_get_work_package'`);
      expect(row).toMatchObject({ error_code: 'openproject.project_not_allowed', detail: { refusal: { reason: 'openproject.project_not_allowed', project: 'Apollo' }, openproject: { user: { login: 'admin' } } } });

      const other = await call(client, 'openproject_search_work_packages', { project: 'apollo' });
      expect(text(other)).toContain('not among the projects');

      const all = await call(client, 'openproject_search_work_packages', { status: 'all' });
      expect((all.structuredContent as { items: { id: number }[] }).items.map((i) => i.id)).toEqual([201]);
      const projects = await call(client, 'openproject_list_projects', {});
      expect((projects.structuredContent as { items: { identifier: string }[] }).items.map((p) => p.identifier)).toEqual(['zeus']);
    });

    it('deletes only with confirm: true when deletes are enabled', async () => {
      const unconfirmed = await call(client, 'openproject_delete_work_package', { id: 201 });
      expect(text(unconfirmed)).toContain('cannot be undone: ask the user, then call again with confirm: true');
      expect(fake.data.workPackages.some((w) => w.id === 201)).toBe(true);

      const outside = await call(client, 'openproject_delete_work_package', { id: 101, confirm: true });
      expect(text(outside)).toContain('not among the projects');

      const deleted = await call(client, 'openproject_delete_work_package', { id: 201, confirm: true });
      expect(deleted.structuredContent).toEqual({ deleted: true, id: 201 });
      expect(fake.data.workPackages.some((w) => w.id === 201)).toBe(false);
      const rows = await portico.auditRows(`tool = 'openproject_delete_work_package'`);
      expect(rows.map((r) => r.error_code)).toEqual(['openproject.confirm_required', 'openproject.project_not_allowed', null]);
    });
  });

  describe('per-user identity', () => {
    let portico: TestPortico;
    let alice: Client;
    let bob: Client;
    const accounts = (): Promise<Record<string, string>[]> =>
      portico.app.get<DataSource>(getDataSourceToken()).query('SELECT * FROM openproject_accounts ORDER BY principal_id');

    beforeAll(async () => {
      fake.reset();
      portico = await bootPortico({
        OPENPROJECT_URL: fake.url,
        OPENPROJECT_IDENTITY: 'per-user',
        OPENPROJECT_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        OPENPROJECT_WRITE: 'comments',
      });
      // The suites may share one PostgreSQL across runs: start from no linked accounts for these principals.
      await portico.app
        .get<DataSource>(getDataSourceToken())
        .query(`DELETE FROM openproject_accounts WHERE principal_id IN ('token:alice', 'token:bob')`);
      alice = await connect(portico, TOKENS.alice);
      bob = await connect(portico, TOKENS.bob);
    });
    afterAll(async () => {
      await alice?.close();
      await bob?.close();
      await portico?.stop();
    });

    it('refuses a principal that has not linked an account, and says how to link', async () => {
      const r = await call(alice, 'openproject_whoami');

      expect(r.isError).toBe(true);
      expect(text(r)).toContain('openproject_link_account');
      const [row] = await portico.auditRows(`tool = 'openproject_whoami'`);
      expect(row).toMatchObject({ error_code: 'openproject.account_not_linked' });
    });

    it('rejects a key OpenProject does not accept, without storing it', async () => {
      const r = await call(alice, 'openproject_link_account', { apiKey: 'opkey-wrong-000000000000000000000000' });

      expect(text(r)).toContain('OpenProject does not accept this API key');
      expect(await accounts()).toEqual([]);
    });

    it('two principals with their own keys act as two OpenProject users; keys are stored encrypted and never audited', async () => {
      const linkedA = await call(alice, 'openproject_link_account', { apiKey: API_KEYS.alice });
      const linkedB = await call(bob, 'openproject_link_account', { apiKey: API_KEYS.bob });
      expect(linkedA.structuredContent).toMatchObject({ linked: true, openprojectUser: { id: 4, login: 'alice' } });
      expect(linkedB.structuredContent).toMatchObject({ linked: true, openprojectUser: { id: 5, login: 'bob' } });

      expect((await call(alice, 'openproject_whoami')).structuredContent).toMatchObject({ id: 4, name: 'Alice Lindqvist', identity: 'per-user' });
      expect((await call(bob, 'openproject_whoami')).structuredContent).toMatchObject({ id: 5, name: 'Bob Okafor', identity: 'per-user' });

      fake.requests.length = 0;
      await call(alice, 'openproject_add_comment', { workPackageId: 102, comment: 'From Alice' });
      await call(bob, 'openproject_add_comment', { workPackageId: 102, comment: 'From Bob' });
      expect(fake.requestsTo('POST', '/api/v3/work_packages/102/activities').map((r) => r.user)).toEqual(['alice', 'bob']);
      expect(fake.data.activities.slice(-2).map((a) => [a.userId, a.comment])).toEqual([[4, 'From Alice'], [5, 'From Bob']]);

      // Visibility is OpenProject's: Bob is no member of zeus.
      expect((await call(alice, 'openproject_get_work_package', { id: 201 })).isError).toBeFalsy();
      expect(text(await call(bob, 'openproject_get_work_package', { id: 201 }))).toContain('Not found in OpenProject (acting as OpenProject user Bob Okafor)');

      const comments = await portico.auditRows(`tool = 'openproject_add_comment'`);
      expect(comments.map((r) => [r.principal_id, (r.detail as { openproject: { user: { login: string } } }).openproject.user.login])).toEqual([
        ['token:alice', 'alice'],
        ['token:bob', 'bob'],
      ]);
      const links = await portico.auditRows(`tool = 'openproject_link_account'`);
      const serialized = JSON.stringify(links);
      expect(serialized).not.toContain(API_KEYS.alice);
      expect(serialized).not.toContain(API_KEYS.bob);
      expect(links.at(-1)).toMatchObject({ arguments: { apiKey: '[redacted]' }, detail: { openproject: { linkedUser: { login: 'bob' } } } });

      const stored = await accounts();
      expect(stored.map((r) => r.principal_id)).toEqual(['token:alice', 'token:bob']);
      expect(JSON.stringify(stored)).not.toContain('opkey-');
      expect(stored[0].api_key_sealed).toMatch(/^v1\./);
    });
  });

  describe('readiness on the status port', () => {
    let portico: TestPortico;
    const ready = async () => {
      const res = await fetch(`${portico.statusUrl}/health/ready`);
      return { status: res.status, openproject: ((await res.json()) as { details: Record<string, Record<string, unknown>> }).details.openproject };
    };

    beforeAll(async () => {
      fake.reset();
      portico = await bootPortico({ OPENPROJECT_URL: fake.url, OPENPROJECT_API_KEY: API_KEYS.admin });
    });
    afterAll(async () => {
      fake.reset();
      await portico?.stop();
    });

    it('reports a revoked key, a rejected host name and the https redirect as distinct states, then ok', async () => {
      fake.data.users[0].apiKey = 'rotated';
      expect(await ready()).toMatchObject({ status: 503, openproject: { status: 'down', state: 'key_invalid', message: expect.stringContaining('OPENPROJECT_API_KEY') } });
      fake.data.users[0].apiKey = API_KEYS.admin;

      fake.options = { allowedHosts: ['openproject'] };
      expect(await ready()).toMatchObject({ status: 503, openproject: { status: 'down', state: 'host_name_rejected', message: expect.stringContaining('OPENPROJECT_ADDITIONAL__HOST__NAMES=127.0.0.1') } });

      fake.options = { https: true };
      expect(await ready()).toMatchObject({ status: 503, openproject: { status: 'down', state: 'https_redirect', message: expect.stringContaining('OPENPROJECT_HTTPS') } });

      fake.options = {};
      expect(await ready()).toMatchObject({ status: 200, openproject: { status: 'up', state: 'ok', user: 'OpenProject Admin' } });
    });

    it('turns 503 naming openproject when OpenProject stops answering, and 200 when it answers again', async () => {
      await new Promise((r) => setTimeout(r, 5_100)); // past the indicator's cache of the last success
      fake.options = { silent: true };
      expect(await ready()).toMatchObject({ status: 503, openproject: { status: 'down' } });
      fake.options = {};
      expect(await ready()).toMatchObject({ status: 200, openproject: { status: 'up', state: 'ok' } });
    });

    it('says the integration is off when OPENPROJECT_URL is not set', async () => {
      const off = await bootPortico({ STATUS_ADMIN_TOKEN: 'status-admin-token-0123' });
      try {
        const res = await fetch(`${off.statusUrl}/health/ready`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { details: Record<string, unknown> }).details.openproject).toBeUndefined();
        const status = await fetch(`${off.statusUrl}/status`, { headers: { Authorization: 'Bearer status-admin-token-0123' } });
        expect(await status.json()).toMatchObject({ integrations: { openproject: 'off' } });
        expect((await connect(off, TOKENS.alice).then(async (c) => ((await c.listTools()).tools.map((t) => t.name)))).some((n) => n.startsWith('openproject_'))).toBe(false);
      } finally {
        await off.stop();
      }
    });
  });
});
