import { getDataSourceToken } from '@nestjs/typeorm';
import type { ModuleMetadata } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { type RunningPortico, startPortico } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';

export const TOKENS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef',
};

export interface TestPortico extends RunningPortico {
  dataDir: string;
  /**
   * Waits for queued audit writes, then returns this instance's rows matching
   * `where` (SQL on audit_events), oldest first. Only this instance's: suites
   * on one PostgreSQL share the table with earlier runs and other suites.
   */
  auditRows(where: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/**
 * The real app on random ports with two static tokens, on PostgreSQL when
 * DATABASE_URL is set, else on a fresh embedded database.
 */
export async function bootPortico(env: Record<string, string> = {}, modules: ModuleMetadata['imports'] = []): Promise<TestPortico> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-test-'));
  const config = loadConfig({
    PORT: '0',
    STATUS_PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUTH_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
    DATABASE_URL: process.env.DATABASE_URL ?? '',
    ...env,
  });
  const running = await startPortico(config, modules);
  const dataSource = running.app.get<DataSource>(getDataSourceToken());
  return {
    ...running,
    dataDir,
    async auditRows(where, params = []) {
      const audit = running.app.get(AuditService);
      await audit.flush();
      return dataSource.query(`SELECT * FROM audit_events WHERE instance_id = $${params.length + 1} AND (${where}) ORDER BY id`, [...params, audit.instanceId]);
    },
    async stop() {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** `Authorization: Basic` for a user name and password. */
export function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
}
