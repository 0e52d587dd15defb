import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { OpenProjectError, OpenProjectErrorCode } from '@portico/openproject-client';
import { ReadinessRegistry } from '../../health/readiness.registry';
import { OpenProjectIdentityService } from './openproject-identity.service';

/** What readiness reports about OpenProject; each failure has its own state and a message naming the fix. */
export type OpenProjectHealthState =
  | 'ok'
  | 'unreachable'
  | 'liveness_failed'
  | 'key_invalid'
  | 'host_name_rejected'
  | 'https_redirect'
  | 'error';

const STATES: Partial<Record<OpenProjectErrorCode, OpenProjectHealthState>> = {
  [OpenProjectErrorCode.Unauthenticated]: 'key_invalid',
  [OpenProjectErrorCode.HostNameRejected]: 'host_name_rejected',
  [OpenProjectErrorCode.HttpsRedirect]: 'https_redirect',
  [OpenProjectErrorCode.Unreachable]: 'unreachable',
  [OpenProjectErrorCode.Timeout]: 'unreachable',
};

/**
 * Readiness of the OpenProject integration, for Terminus on the status port:
 * OpenProject's liveness (`/health_checks/default`, exempt from its host-name
 * check and https redirect), then `GET /api/v3/users/me` with the service key,
 * which is where a wrong key (401), a rejected Host (400) or the https
 * redirect (301) shows. A success is kept for a few seconds so probes do not
 * load OpenProject. Registered as the `openproject` readiness check: `down`
 * fails readiness with the state and a message naming the fix.
 */
@Injectable()
export class OpenProjectHealthIndicator implements OnModuleInit, OnModuleDestroy {
  private last?: { at: number; result: HealthIndicatorResult };
  private readonly cacheMs = 5_000;
  private unregister?: () => void;

  constructor(
    private readonly identity: OpenProjectIdentityService,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit(): void {
    this.unregister = this.readiness.register({
      name: 'openproject',
      check: async () => {
        const { status, ...facts } = (await this.check('openproject')).openproject;
        if (status !== 'up') throw Object.assign(new Error(`${facts.state}: ${facts.message}`), { details: facts });
        return facts;
      },
    });
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }

  async check(key: string): Promise<HealthIndicatorResult> {
    if (this.last && Date.now() - this.last.at < this.cacheMs) return this.last.result;
    const result = { [key]: await this.probe() } as HealthIndicatorResult;
    // Only success is kept: a failure is probed again, so its fix shows at once.
    this.last = result[key].status === 'up' ? { at: Date.now(), result } : undefined;
    return result;
  }

  private async probe(): Promise<HealthIndicatorResult[string]> {
    const { base, config } = this.identity;
    const url = config.url;
    try {
      // The client times out after OPENPROJECT_TIMEOUT_MS itself, and then says so (state unreachable).
      const live = await base.healthCheck();
      if (!live.ok) return { status: 'down', state: 'liveness_failed', url, message: `OpenProject's /health_checks/default answered ${live.status}: ${live.body}` };
      if (!config.apiKey) {
        return { status: 'up', state: 'ok', url, identity: config.identity, message: 'OpenProject is live; no service key is configured, so API access is checked per user' };
      }
      const me = await base.me();
      return { status: 'up', state: 'ok', url, identity: config.identity, user: me.name };
    } catch (e) {
      if (e instanceof OpenProjectError) {
        const state = STATES[e.code] ?? 'error';
        const message = state === 'key_invalid' ? 'OpenProject refused OPENPROJECT_API_KEY (401): it is wrong, expired or revoked, or API tokens are disabled' : e.message;
        return { status: 'down', state, url, message };
      }
      return { status: 'down', state: 'error', url, message: (e as Error).message };
    }
  }
}
