import { type INestApplicationContext, Logger as NestLogger, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { AppModule } from './app.module';
import { PACKAGE_VERSION } from './common/paths';
import { AuditService } from './audit/audit.service';
import { ProtectedResourceService } from './auth/protected-resource.service';
import { AuthorizationServerService } from './authorization-server/authorization-server.service';
import { NotFoundFilter } from './common/http-exception.filter';
import { applyHttpTimeouts } from './common/http-timeouts';
import { nestLogger, requestLog } from './common/logger.module';
import { securityHeaders } from './common/security-headers';
import { type AppConfig, configSummary } from './config/app-config';
import { LifecycleService } from './lifecycle/lifecycle.service';
import { buildStatusOpenApi, StatusOpenApi } from './status/openapi.controller';
import { StatusModule } from './status/status.module';
import { StdioAppModule } from './stdio-app.module';
import { applyHttpPipeline } from './transport/http-pipeline';
import { LiveSessionRegistry } from './transport/live-session.registry';
import { ModernHandlerService } from './transport/modern-handler.service';
import { StdioService } from './transport/stdio.service';

export interface RunningPortico {
  app: NestExpressApplication;
  statusApp: NestExpressApplication;
  /** e.g. http://127.0.0.1:8080/mcp */
  mcpUrl: string;
  statusUrl: string;
  /**
   * The graceful shutdown: readiness 503 and new requests refused at once,
   * in-flight requests and tool calls finish (up to `drainTimeoutMs`), then
   * streams close, the audit log is flushed and both apps close.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Of SHUTDOWN_TIMEOUT_MS, what in-flight calls get; the rest is for closing streams, the audit flush and the pools. */
export function drainBudget(shutdownTimeoutMs: number): number {
  return Math.max(0, shutdownTimeoutMs - Math.min(3000, Math.round(shutdownTimeoutMs / 4)));
}

function urlOf(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Boots the MCP app on PORT and the status app on STATUS_PORT. */
export async function startPortico(config: AppConfig, modules: ModuleMetadata['imports'] = []): Promise<RunningPortico> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, modules), {
    bodyParser: false,
    logger: nestLogger(config),
    abortOnError: false,
    forceCloseConnections: true,
  });
  app.useLogger(app.get(Logger));
  // The built-in authorization server reads its requests' raw bodies: mounted before the body parser.
  applyHttpPipeline(app, config, config.authorizationServer.enabled ? [app.get(AuthorizationServerService).middleware()] : []);
  applyHttpTimeouts(app.getHttpServer(), config.http.timeouts);
  try {
    await app.listen(config.http.port, config.http.host);
  } catch (e) {
    // Boot failed in a lifecycle hook (a bad tool definition, a stale schema): release what did start.
    await app.close().catch(() => undefined);
    throw e;
  }
  app.get(ProtectedResourceService).listening((app.getHttpServer().address() as AddressInfo).port);

  let statusApp: NestExpressApplication;
  try {
    statusApp = await NestFactory.create<NestExpressApplication>(StatusModule.forMainApp(app, config), {
      logger: nestLogger(config),
      abortOnError: false,
      forceCloseConnections: true,
    });
    statusApp.useLogger(statusApp.get(Logger));
    statusApp.disable('x-powered-by');
    statusApp.use(securityHeaders());
    statusApp.use(requestLog(PinoLogger.root));
    statusApp.useGlobalFilters(new NotFoundFilter());
    statusApp.get(StatusOpenApi).document = buildStatusOpenApi(statusApp);
    applyHttpTimeouts(statusApp.getHttpServer(), config.http.timeouts);
    await statusApp.listen(config.status.port, config.status.host);
  } catch (e) {
    await app.close();
    throw e;
  }

  const logger = new NestLogger('Portico');
  const mcpUrl = `${urlOf(app.getHttpServer(), config.http.host)}/mcp`;
  const statusUrl = urlOf(statusApp.getHttpServer(), config.status.host);
  logger.log({ mcpUrl, statusUrl, database: config.database.url ? 'postgres' : 'embedded' }, 'Portico is ready');
  app.get(AuditService).record({ kind: 'config_loaded', outcome: 'ok', detail: { ...configSummary(config), version: PACKAGE_VERSION, transport: 'http' } });

  let closing: Promise<void> | undefined;
  const close = (drainTimeoutMs = drainBudget(config.shutdownTimeoutMs)) =>
    (closing ??= (async () => {
      // Readiness 503 and new requests refused at once; the listener takes no new connections.
      const lifecycle = app.get(LifecycleService);
      lifecycle.beginDrain();
      const server = app.getHttpServer();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // In-flight requests and tool calls finish, up to the deadline.
      const left = await lifecycle.drained(drainTimeoutMs);
      if (left.requests || left.calls) logger.warn(left, 'drain deadline reached: closing what still runs');
      else logger.log({ waitedMs: left.waitedMs }, 'drained');
      // End every stream (legacy sessions on /mcp and /sse, modern listen streams); calls still running are aborted.
      await Promise.all([app.get(LiveSessionRegistry).closeAll(), app.get(ModernHandlerService).close()]);
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
      server.closeAllConnections();
      await app.get(AuditService).flush();
      // Readiness answers 503 until here; the status app borrows the main app's pool, so it closes first.
      await statusApp.close();
      await app.close();
    })());

  return { app, statusApp, mcpUrl, statusUrl, close };
}

export interface RunningStdio {
  app: INestApplicationContext;
  /** Settles when the connection has ended: the client closed stdin, stdout broke, or `close()` ran. */
  disconnected: Promise<void>;
  /** Ends the connection, flushes the audit log, closes the app and `output`. */
  close(): Promise<void>;
}

/**
 * Boots `portico stdio`: the same tools, database and audit as the HTTP app,
 * in an application context without listeners, serving one client on
 * `input`/`output`.
 */
export async function startStdio(
  config: AppConfig,
  io: { input: Readable; output: Writable },
  modules: ModuleMetadata['imports'] = [],
): Promise<RunningStdio> {
  const app = await NestFactory.createApplicationContext(StdioAppModule.forRoot(config, modules), {
    logger: nestLogger(config),
    abortOnError: false,
  });
  const stdio = app.get(StdioService);
  const disconnected = stdio.serve(io.input, io.output);
  new NestLogger('Portico').log(
    { transport: 'stdio', principal: stdio.principal.id, database: config.database.url ? 'postgres' : 'embedded' },
    'Portico is ready',
  );
  app.get(AuditService).record({ kind: 'config_loaded', outcome: 'ok', detail: { ...configSummary(config), version: PACKAGE_VERSION, transport: 'stdio' } });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await stdio.close();
      await app.get(AuditService).flush();
      await app.close();
      // Whatever the transport still buffers reaches the client before the process exits.
      await new Promise<void>((resolve) => io.output.end(() => resolve()));
    })());

  return { app, disconnected, close };
}
