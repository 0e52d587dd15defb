import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/express';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { JsonRpcCode, sendJsonRpcError } from '../common/json-rpc-error';
import { requestContextMiddleware } from '../common/request-context';
import { type AppConfig, isLoopback } from '../config/app-config';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from '../metrics/metrics.service';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Host names accepted in the `Host` header (DNS-rebinding protection):
 * loopback names always (health checks from inside a container), plus
 * ALLOWED_HOSTS, which is required when bound beyond loopback.
 */
export function allowedHostnames(config: AppConfig): string[] {
  return [...LOOPBACK_NAMES, ...config.http.allowedHosts];
}

/**
 * Origin host names accepted when a request carries `Origin` (browsers do;
 * claude.ai's servers and CLI clients do not): the server's own host names
 * (same-origin pages), ALLOWED_ORIGINS, and loopback pages only when the
 * server itself is bound to loopback.
 */
export function allowedOriginHostnames(config: AppConfig): string[] {
  return [
    ...(isLoopback(config.http.host) ? LOOPBACK_NAMES : []),
    ...config.http.allowedHosts,
    ...config.http.allowedOrigins,
  ];
}

/** Runs an SDK validator and leaves a trace of what it refused (DNS-rebinding attempts, stray browsers). */
function logged(header: 'Host' | 'Origin', validate: (req: Request, res: Response, next: NextFunction) => void) {
  const logger = new Logger('HttpPipeline');
  return (req: Request, res: Response, next: NextFunction) => {
    let passed = false;
    validate(req, res, (...args: unknown[]) => {
      passed = true;
      next(...(args as []));
    });
    if (!passed) {
      logger.warn({ [header.toLowerCase()]: req.headers[header.toLowerCase()], method: req.method, url: req.path }, `request refused: ${header} not allowed`);
    }
  };
}

/** JSON body parser with the configured limit; its errors become JSON-RPC errors. */
function jsonBody(limit: number) {
  const parse = express.json({ limit, type: ['application/json', 'application/*+json'] });
  return (req: Request, res: Response, next: NextFunction) =>
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number };
      if (e.type === 'entity.too.large') {
        return sendJsonRpcError(res, 413, JsonRpcCode.InvalidRequest, `Request body exceeds the limit of ${limit} bytes`);
      }
      if (e.type === 'entity.parse.failed') {
        return sendJsonRpcError(res, 400, JsonRpcCode.ParseError, 'Parse error: the body is not valid JSON');
      }
      return sendJsonRpcError(res, e.status && e.status < 500 ? e.status : 400, JsonRpcCode.InvalidRequest, 'Unreadable request body');
    });
}

/**
 * The express layer in front of Nest's routing, in order: the
 * `X-Portico-Instance` header (unless INSTANCE_HEADER is off), request id and
 * async context, request metrics, Host and Origin validation (403),
 * `beforeBody` (handlers that read the raw body themselves: the built-in
 * authorization server), JSON body with a limit (413), then the drain gate
 * (503 while shutting down). Auth and rate limits follow as Nest's global guards.
 */
export function applyHttpPipeline(app: NestExpressApplication, config: AppConfig, beforeBody: RequestHandler[] = []): void {
  app.set('trust proxy', config.http.trustProxy);
  app.disable('x-powered-by');
  if (config.instance.header) {
    const id = config.instance.id;
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('X-Portico-Instance', id);
      next();
    });
  }
  app.use(requestContextMiddleware);
  app.use(app.get(MetricsService).httpMiddleware());
  app.use(logged('Host', hostHeaderValidation(allowedHostnames(config))));
  app.use(logged('Origin', originValidation(allowedOriginHostnames(config))));
  for (const handler of beforeBody) app.use(handler);
  app.use(jsonBody(config.http.maxBodyBytes));
  app.use(app.get(LifecycleService).middleware());
}
