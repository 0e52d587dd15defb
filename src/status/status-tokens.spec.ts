import type { Request } from 'express';
import type { AppConfig } from '../config/app-config';
import { StatusTokens } from './status-tokens';

const ADMIN = 'admin-token-0123456789';
const SCRAPER = 'metrics-token-0123456789';
const tokens = (status: Partial<AppConfig['status']>) => new StatusTokens({ status: { metricsPublic: false, ...status } } as AppConfig);
const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as Request;

describe('StatusTokens', () => {
  it('opens the admin routes to the admin token only', () => {
    const t = tokens({ adminToken: ADMIN, metricsToken: SCRAPER });

    expect(t.isAdmin(req(`Bearer ${ADMIN}`))).toBe(true);
    expect(t.isAdmin(req(`Bearer ${SCRAPER}`))).toBe(false);
    expect(t.isAdmin(req(`Basic ${ADMIN}`))).toBe(false);
    expect(t.isAdmin(req())).toBe(false);
  });

  it('opens /metrics to the admin or the metrics token, or to everyone when METRICS_PUBLIC', () => {
    const t = tokens({ adminToken: ADMIN, metricsToken: SCRAPER });
    expect([t.mayScrape(req(`Bearer ${ADMIN}`)), t.mayScrape(req(`Bearer ${SCRAPER}`)), t.mayScrape(req('Bearer nope')), t.mayScrape(req())]).toEqual([true, true, false, false]);

    expect(tokens({ metricsPublic: true }).mayScrape(req())).toBe(true);
  });

  it('opens nothing when no token is configured', () => {
    const t = tokens({});
    expect([t.adminConfigured, t.isAdmin(req('Bearer ')), t.mayScrape(req('Bearer '))]).toEqual([false, false, false]);
  });
});
