import { BadRequestException, Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
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
@ApiTags('audit')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'Admin token missing or wrong.' })
@Controller('audit')
@UseGuards(AdminGuard)
export class AuditController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'Audit events, oldest first: JSON pages with a cursor, or every match as NDJSON or CSV. See docs/audit.md.' })
  @ApiQuery({ name: 'from', required: false, description: 'Occurred at or after (ISO 8601 with offset).' })
  @ApiQuery({ name: 'to', required: false, description: 'Occurred before (ISO 8601 with offset).' })
  @ApiQuery({ name: 'principal', required: false })
  @ApiQuery({ name: 'tool', required: false })
  @ApiQuery({ name: 'kind', required: false })
  @ApiQuery({ name: 'outcome', required: false })
  @ApiQuery({ name: 'session', required: false })
  @ApiQuery({ name: 'cursor', required: false, description: 'From the previous page.' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'ndjson', 'csv'] })
  @ApiProduces('application/json', 'application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'A page `{ events, nextCursor }` (json), or a stream of events (ndjson, csv).' })
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
  @ApiOperation({ summary: 'Walks every hash chain; `problems` lists the first broken link of each.' })
  @ApiOkResponse({ description: 'The verification report.' })
  verify() {
    return verifyAuditLog(this.dataSource);
  }
}
