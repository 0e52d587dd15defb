import { BadRequestException, Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import {
  auditFilterSchema,
  CSV_HEADER,
  findAuditEvents,
  InvalidCursorError,
  streamAuditEvents,
  toCsv,
  toNdjson,
} from '../audit/audit-query';
import { verifyAuditLog } from '../audit/audit-verifier';
import { AdminGuard } from './admin.guard';

const querySchema = auditFilterSchema.extend({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  format: z.enum(['json', 'ndjson', 'csv']).default('json'),
});

/**
 * The audit API on the status port (admin token). `format=json` pages with a
 * cursor; `ndjson` and `csv` stream every matching row, for any range.
 */
@Controller('audit')
@UseGuards(AdminGuard)
export class AuditController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  async list(@Query() raw: Record<string, string>, @Res() res: Response): Promise<void> {
    const parsed = querySchema.safeParse(raw);
    if (!parsed.success) throw new BadRequestException(z.prettifyError(parsed.error));
    const { cursor, limit, format, ...filter } = parsed.data;
    if (format === 'json') {
      try {
        res.json(await findAuditEvents(this.dataSource, filter, { cursor, limit }));
      } catch (e) {
        if (e instanceof InvalidCursorError) throw new BadRequestException(e.message);
        throw e;
      }
      return;
    }
    res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    res.setHeader('Content-Disposition', `attachment; filename="portico-audit.${format}"`);
    if (format === 'csv') res.write(CSV_HEADER);
    for await (const event of streamAuditEvents(this.dataSource, filter)) {
      if (!res.write(format === 'csv' ? toCsv(event) : toNdjson(event))) await new Promise((r) => res.once('drain', r));
      if (res.destroyed) return;
    }
    res.end();
  }

  /** Walks every hash chain; `problems` lists the first broken link of each. */
  @Get('verify')
  verify() {
    return verifyAuditLog(this.dataSource);
  }
}
