import { toNodeHandler } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { McpRegistry, McpServerBuilder, type Principal, type RegistryKind } from '@portico/mcp-core';
import type { Request, Response } from 'express';
import { currentRequestId } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { ModernServerPool } from './modern-server.pool';
import { type ParsedBodyNodeHandler, toParsedBodyNodeHandler } from './node-fetch.adapter';
import { RedisServerEventBus } from './redis-server-event.bus';

/**
 * The modern era (2026-07-28) on `/mcp`: stateless, one server instance per
 * request from the SDK's `createMcpHandler` (strict: legacy traffic never
 * reaches it, the router sends it to the sessions), taken from a pool of
 * prebuilt servers per scope set ({@link ModernServerPool}). Registry changes reach
 * open `subscriptions/listen` streams as `list_changed` notifications: those
 * of this instance, and with REDIS_URL those of every instance (the SDK's
 * event bus over Redis pub/sub).
 */
@Injectable()
export class ModernHandlerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ModernHandler');
  private readonly handler: McpHttpHandler;
  private readonly node: ParsedBodyNodeHandler;
  private stopListening?: () => void;
  private listenStreams = 0;
  private readonly bus?: RedisServerEventBus;
  private readonly pool: ModernServerPool;

  constructor(
    builder: McpServerBuilder,
    private readonly registry: McpRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
    @Optional() redis?: RedisService,
  ) {
    if (redis) this.bus = new RedisServerEventBus(redis);
    this.pool = new ModernServerPool(builder, currentRequestId);
    this.handler = createMcpHandler(
      (ctx) => this.pool.acquire((ctx.authInfo?.extra as { principal: Principal }).principal),
      {
        legacy: 'reject',
        ...(this.bus && { bus: this.bus }),
        maxRequestBodySize: config.http.maxBodyBytes,
        onerror: (e) => this.logger.debug({ err: e }, 'modern request rejected'),
      },
    );
    this.node = toParsedBodyNodeHandler(this.handler, toNodeHandler(this.handler, { maxRequestBodySize: config.http.maxBodyBytes }));
  }

  /** After boot: the tools registered while booting are no change for anyone listening. */
  async onApplicationBootstrap(): Promise<void> {
    await this.bus?.start();
    const notify: Record<RegistryKind, () => void> = {
      tools: () => this.handler.notify.toolsChanged(),
      prompts: () => this.handler.notify.promptsChanged(),
      resources: () => this.handler.notify.resourcesChanged(),
    };
    const stopChanges = this.registry.onChange((kind) => {
      this.pool.clear();
      notify[kind]();
    });
    // The SDK's listen router delivers it only to streams that asked for this URI.
    const stopUpdates = this.registry.onResourceUpdated((uri) => this.handler.notify.resourceUpdated(uri));
    this.stopListening = () => {
      stopChanges();
      stopUpdates();
    };
  }

  /** Open `subscriptions/listen` streams: the modern era's only long-lived state. */
  get openStreams(): number {
    return this.listenStreams;
  }

  async handle(req: Request, res: Response, principal: Principal): Promise<void> {
    if ((req.body as { method?: unknown } | undefined)?.method === 'subscriptions/listen') {
      this.listenStreams++;
      this.metrics.sessionOpened('modern', 'streamable-http');
      res.once('close', () => {
        this.listenStreams--;
        this.metrics.sessionEnded('modern', 'streamable-http', 'closed');
      });
    }
    // The SDK passes `req.auth` through to the factory; the credential itself is not needed there.
    const auth: AuthInfo = { token: '', clientId: principal.id, scopes: principal.scopes, extra: { principal } };
    await this.node(Object.assign(req, { auth }), res, req.body);
  }

  /** Aborts in-flight modern exchanges (shutdown). */
  async close(): Promise<void> {
    this.stopListening?.();
    this.stopListening = undefined;
    this.pool.clear();
    await this.bus?.close();
    await this.handler.close();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
