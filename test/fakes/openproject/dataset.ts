/**
 * The fake OpenProject's in-memory data: a small organisation with two
 * projects, a workflow, three users with API keys, and work packages with
 * comments, relations, time entries and versions. `seed()` returns a fresh copy.
 */
export interface FakeUser { id: number; login: string; firstName: string; lastName: string; email: string; admin: boolean; apiKey: string }
export interface FakeProject { id: number; identifier: string; name: string; description: string; active: boolean; public: boolean; parentId: number | null }
export interface FakeMembership { id: number; projectId: number; userId: number; role: 'Member' | 'Reader' }
export interface FakeStatus { id: number; name: string; isClosed: boolean; isDefault: boolean; position: number; color: string }
export interface FakeType { id: number; name: string; isDefault: boolean; isMilestone: boolean; position: number; color: string }
export interface FakePriority { id: number; name: string; isDefault: boolean; position: number }
export interface FakeVersion { id: number; projectId: number; name: string; description: string; startDate: string | null; endDate: string | null; status: 'open' | 'locked' | 'closed'; sharing: 'none' | 'descendants' | 'hierarchy' | 'tree' | 'system' }
export interface FakeWorkPackage {
  id: number; projectId: number; subject: string; description: string; typeId: number; statusId: number; priorityId: number;
  authorId: number; assigneeId: number | null; responsibleId: number | null; versionId: number | null; parentId: number | null;
  startDate: string | null; dueDate: string | null; estimatedHours: number | null; percentageDone: number | null;
  lockVersion: number; createdAt: string; updatedAt: string;
}
export interface FakeActivity { id: number; workPackageId: number; userId: number; comment: string; internal: boolean; details: string[]; createdAt: string; updatedAt: string; version: number }
export interface FakeRelation { id: number; fromId: number; toId: number; type: string; description: string | null; lag: number | null }
export interface FakeTimeEntry { id: number; projectId: number; workPackageId: number | null; userId: number; activityId: number; hours: number; spentOn: string; comment: string; createdAt: string; updatedAt: string }
export interface FakeTimeEntryActivity { id: number; name: string; isDefault: boolean }
export interface FakeQuery { id: number; name: string; projectId: number | null; public: boolean; filters: string }
export interface FakeNotification { id: number; userId: number; workPackageId: number; actorId: number; reason: 'assigned' | 'commented' | 'mentioned' | 'watched'; readIAN: boolean; createdAt: string }

export interface Dataset {
  users: FakeUser[];
  projects: FakeProject[];
  memberships: FakeMembership[];
  statuses: FakeStatus[];
  /** typeId → from statusId → allowed target statusIds (the workflow for the Member role). */
  workflows: Record<number, Record<number, number[]>>;
  types: FakeType[];
  priorities: FakePriority[];
  versions: FakeVersion[];
  workPackages: FakeWorkPackage[];
  activities: FakeActivity[];
  relations: FakeRelation[];
  timeEntries: FakeTimeEntry[];
  timeEntryActivities: FakeTimeEntryActivity[];
  watchers: Record<number, number[]>;
  queries: FakeQuery[];
  notifications: FakeNotification[];
}

export const API_KEYS = {
  admin: 'opkey-admin-0000000000000000000000000000000000000000',
  alice: 'opkey-alice-1111111111111111111111111111111111111111',
  bob: 'opkey-bob-22222222222222222222222222222222222222222222',
};

const T0 = '2026-11-02T09:00:00.000Z';

export function seed(): Dataset {
  return {
    users: [
      { id: 1, login: 'admin', firstName: 'OpenProject', lastName: 'Admin', email: 'admin@example.com', admin: true, apiKey: API_KEYS.admin },
      { id: 4, login: 'alice', firstName: 'Alice', lastName: 'Lindqvist', email: 'alice@example.com', admin: false, apiKey: API_KEYS.alice },
      { id: 5, login: 'bob', firstName: 'Bob', lastName: 'Okafor', email: 'bob@example.com', admin: false, apiKey: API_KEYS.bob },
    ],
    projects: [
      { id: 1, identifier: 'apollo', name: 'Apollo', description: 'The **Apollo** launch programme.', active: true, public: false, parentId: null },
      { id: 2, identifier: 'zeus', name: 'Zeus', description: 'Internal tooling.', active: true, public: false, parentId: null },
    ],
    memberships: [
      { id: 1, projectId: 1, userId: 4, role: 'Member' },
      { id: 2, projectId: 1, userId: 5, role: 'Member' },
      { id: 3, projectId: 2, userId: 4, role: 'Member' },
    ],
    statuses: [
      { id: 1, name: 'New', isClosed: false, isDefault: true, position: 1, color: '#1A67A3' },
      { id: 7, name: 'In progress', isClosed: false, isDefault: false, position: 2, color: '#F0AD00' },
      { id: 12, name: 'Closed', isClosed: true, isDefault: false, position: 3, color: '#5C5C5C' },
      { id: 14, name: 'Rejected', isClosed: true, isDefault: false, position: 4, color: '#C92A2A' },
    ],
    workflows: {
      1: { 1: [7, 14], 7: [1, 12], 12: [7], 14: [1] },
      2: { 1: [7, 12, 14], 7: [1, 12], 12: [7], 14: [1] },
    },
    types: [
      { id: 1, name: 'Task', isDefault: true, isMilestone: false, position: 1, color: '#1A67A3' },
      { id: 2, name: 'Bug', isDefault: false, isMilestone: false, position: 2, color: '#C92A2A' },
    ],
    priorities: [
      { id: 7, name: 'Low', isDefault: false, position: 1 },
      { id: 8, name: 'Normal', isDefault: true, position: 2 },
      { id: 9, name: 'High', isDefault: false, position: 3 },
    ],
    versions: [
      { id: 1, projectId: 1, name: 'Sprint 1', description: 'First sprint', startDate: '2026-11-02', endDate: '2026-11-13', status: 'open', sharing: 'none' },
      { id: 2, projectId: 1, name: 'Sprint 0', description: '', startDate: '2026-10-19', endDate: '2026-10-30', status: 'closed', sharing: 'none' },
    ],
    workPackages: [
      wp(101, 1, 'Design the launch checklist', { typeId: 1, statusId: 7, assigneeId: 4, versionId: 1, dueDate: '2026-11-20', estimatedHours: 8 }),
      wp(102, 1, 'Fix login timeout on the launch dashboard', { typeId: 2, statusId: 1, assigneeId: 5, priorityId: 9, versionId: 1, dueDate: '2026-11-10' }),
      wp(103, 1, 'Write the release notes', { typeId: 1, statusId: 12, assigneeId: 4, versionId: 2 }),
      wp(104, 1, 'Order launch-day pizza', { typeId: 1, statusId: 1, assigneeId: null, parentId: 101 }),
      wp(201, 2, 'Upgrade the CI runners', { typeId: 1, statusId: 1, assigneeId: 4 }),
    ],
    activities: [
      { id: 1001, workPackageId: 101, userId: 1, comment: '', internal: false, details: ['Status changed from New to In progress'], createdAt: T0, updatedAt: T0, version: 1 },
      { id: 1002, workPackageId: 101, userId: 5, comment: 'Should the checklist cover the **fallback** site?', internal: false, details: [], createdAt: '2026-11-03T10:00:00.000Z', updatedAt: '2026-11-03T10:00:00.000Z', version: 2 },
    ],
    relations: [{ id: 501, fromId: 102, toId: 101, type: 'blocks', description: null, lag: null }],
    timeEntries: [
      { id: 301, projectId: 1, workPackageId: 101, userId: 4, activityId: 1, hours: 2.5, spentOn: '2026-11-03', comment: 'First draft', createdAt: T0, updatedAt: T0 },
    ],
    timeEntryActivities: [
      { id: 1, name: 'Development', isDefault: true },
      { id: 2, name: 'Management', isDefault: false },
    ],
    watchers: { 101: [4], 102: [5] },
    queries: [{ id: 21, name: 'Open bugs', projectId: 1, public: true, filters: '[{"type":{"operator":"=","values":["2"]}},{"status":{"operator":"o","values":[]}}]' }],
    notifications: [
      { id: 901, userId: 4, workPackageId: 101, actorId: 5, reason: 'commented', readIAN: false, createdAt: '2026-11-03T10:00:00.000Z' },
      { id: 902, userId: 4, workPackageId: 201, actorId: 1, reason: 'assigned', readIAN: true, createdAt: T0 },
    ],
  };
}

function wp(id: number, projectId: number, subject: string, o: Partial<FakeWorkPackage>): FakeWorkPackage {
  return {
    id, projectId, subject, description: `Details of ${subject.toLowerCase()}.`, typeId: 1, statusId: 1, priorityId: 8, authorId: 1,
    assigneeId: null, responsibleId: null, versionId: null, parentId: null, startDate: null, dueDate: null, estimatedHours: null,
    percentageDone: 0, lockVersion: 3, createdAt: T0, updatedAt: T0, ...o,
  };
}
