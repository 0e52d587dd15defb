import { Prompt, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { READ } from './openproject-tool.base';

/**
 * Prompts built on the OpenProject tools: each tells the model which tools
 * to call and what to write, so a user gets the same report every time.
 */
@ToolProvider({ namespace: 'openproject' })
export class OpenProjectPrompts {
  @Prompt({
    name: 'openproject_project_status_report',
    title: 'OpenProject: project status report',
    description: 'A status report of one project: progress, what is late, blockers, and time spent.',
    args: z.object({
      project: z.string().describe('Project identifier or name'),
      since: z.string().optional().describe('Report period start (YYYY-MM-DD); default 14 days ago'),
    }),
    scopes: READ,
  })
  statusReport({ project, since }: { project: string; since?: string }) {
    const from = since ?? new Date(Date.now() - 14 * 86_400_000).toISOString().slice(0, 10);
    return [
      `Write a status report for the OpenProject project "${project}" covering ${from} until today.`,
      '',
      'Gather the facts with the OpenProject tools:',
      `1. openproject_get_project {"project": "${project}"} for the project, its types and versions.`,
      `2. openproject_search_work_packages {"project": "${project}", "status": "all", "updatedFrom": "${from}", "pageSize": 100} for what moved.`,
      `3. openproject_search_work_packages {"project": "${project}", "status": "open", "dueTo": "<today>", "sortBy": "dueDate", "order": "asc"} for what is overdue.`,
      `4. openproject_list_time_entries {"project": "${project}", "from": "${from}"} for the time spent.`,
      '5. openproject_list_relations for the overdue items, to find what blocks them.',
      '',
      'Then write, in markdown: a one-paragraph summary; Done (closed in the period); In progress; Overdue and blocked, each with owner and due date;',
      'time spent by person; risks and the decisions needed. Link each work package by its url. Do not change anything in OpenProject.',
    ].join('\n');
  }

  @Prompt({
    name: 'openproject_my_open_work',
    title: 'OpenProject: my open work',
    description: 'Your open work packages across projects, grouped by urgency, with unread notifications.',
    args: z.object({ project: z.string().optional().describe('Limit to one project') }),
    scopes: READ,
  })
  myOpenWork({ project }: { project?: string }) {
    const scope = project ? `, "project": "${project}"` : '';
    return [
      'Show me my open work in OpenProject.',
      '',
      `1. openproject_search_work_packages {"assignee": "me", "status": "open", "sortBy": "dueDate", "order": "asc", "pageSize": 100${scope}}.`,
      '2. openproject_list_notifications {"unreadOnly": true} for what changed for me.',
      '',
      'Group the work packages into Overdue, Due this week, Later and No due date; show id, subject, project, status, priority and due date,',
      'with the url. Then list the unread notifications briefly. Suggest what to do first, and ask before changing anything.',
    ].join('\n');
  }

  @Prompt({
    name: 'openproject_version_summary',
    title: 'OpenProject: version summary',
    description: 'Where a version (sprint or release) stands: scope, done, open, at risk.',
    args: z.object({ project: z.string().describe('Project identifier or name'), version: z.string().describe('Version name or id') }),
    scopes: READ,
  })
  versionSummary({ project, version }: { project: string; version: string }) {
    return [
      `Summarise version "${version}" of the OpenProject project "${project}".`,
      '',
      `1. openproject_list_versions {"project": "${project}"} for its dates and status.`,
      `2. openproject_search_work_packages {"project": "${project}", "version": "${version}", "status": "all", "pageSize": 100}.`,
      '',
      'Report: dates and days left; counts by status and type; what is done; what is open by assignee; what is at risk (open and due after the',
      'version ends, or unassigned); and a one-line verdict (on track / at risk / late). Link work packages by url. Do not change anything.',
    ].join('\n');
  }
}
