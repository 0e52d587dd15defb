import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { auditFilterSchema, CSV_HEADER, streamAuditEvents, toCsv, toNdjson } from '../audit/audit-query';
import { verifyAuditLog } from '../audit/audit-verifier';
import type { AppConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source-options';

const USAGE = `Usage:
  portico audit verify
      walks every hash chain; exit 1 and the first broken row of each chain when the log was changed
  portico audit export [--format ndjson|csv] [--from ISO] [--to ISO] [--principal P] [--tool T]
                       [--kind K] [--outcome O] [--session S]
      writes the matching events to stdout, oldest first (default ndjson)
`;

async function withDatabase<T>(config: AppConfig, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const { options, embedded } = dataSourceOptions(config);
  const dataSource = new DataSource({ ...options, migrationsRun: embedded });
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** `portico audit verify|export`. */
export async function audit(config: AppConfig, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'verify') {
    const report = await withDatabase(config, verifyAuditLog);
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    if (report.problems.length) process.exitCode = 1;
    return;
  }
  if (sub === 'export') {
    const { values } = parseArgs({
      args: rest,
      options: {
        format: { type: 'string', default: 'ndjson' },
        from: { type: 'string' },
        to: { type: 'string' },
        principal: { type: 'string' },
        tool: { type: 'string' },
        kind: { type: 'string' },
        outcome: { type: 'string' },
        session: { type: 'string' },
      },
    });
    const { format, ...raw } = values;
    const filter = auditFilterSchema.safeParse(raw);
    if (!filter.success) throw new Error(`bad filter:\n${z.prettifyError(filter.error)}`);
    if (format !== 'ndjson' && format !== 'csv') throw new Error(`--format must be ndjson or csv, not ${format}`);
    await withDatabase(config, async (dataSource) => {
      if (format === 'csv') process.stdout.write(CSV_HEADER);
      for await (const event of streamAuditEvents(dataSource, filter.data)) {
        if (!process.stdout.write(format === 'csv' ? toCsv(event) : toNdjson(event))) {
          await new Promise((r) => process.stdout.once('drain', r));
        }
      }
    });
    return;
  }
  process.stderr.write(USAGE);
  process.exitCode = 2;
}
