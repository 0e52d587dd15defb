import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The bearer tokens of the status port: the admin token (everything) and the
 * metrics token (`/metrics` only). Compared in constant time over digests.
 */
@Injectable()
export class StatusTokens {
  private readonly admin?: Buffer;
  private readonly metrics?: Buffer;
  readonly adminConfigured: boolean;
  readonly metricsPublic: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.admin = config.status.adminToken ? digest(config.status.adminToken) : undefined;
    this.metrics = config.status.metricsToken ? digest(config.status.metricsToken) : undefined;
    this.adminConfigured = Boolean(this.admin);
    this.metricsPublic = config.status.metricsPublic;
  }

  isAdmin(req: Request): boolean {
    return matches(req, this.admin);
  }

  mayScrape(req: Request): boolean {
    return this.metricsPublic || matches(req, this.admin) || matches(req, this.metrics);
  }
}

function matches(req: Request, expected: Buffer | undefined): boolean {
  const header = req.headers.authorization;
  const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  return Boolean(expected && presented && timingSafeEqual(digest(presented), expected));
}
