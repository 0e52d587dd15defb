import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/express';
import { type ExecutionContext, ForbiddenException, Logger } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { Principal } from '@portico/mcp-core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { GLOBAL_GUARDS } from '../app.module';
import { sendError } from '../common/http-exception.filter';
import { JsonRpcCode, sendJsonRpcError } from '../common/json-rpc-error';
import { requestLog } from '../common/logger.module';
import { requestContextMiddleware } from '../common/request-context';
import { securityHeaders } from '../common/security-headers';
import { type AppConfig, isLoopback } from '../config/app-config';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { MetricsService } from '../metrics/metrics.service';
import { McpController } from './mcp.controller';

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

/**
 * Refuses request targets not in origin form (`/path?query`): an
 * absolute-form target (`POST http://other.host/mcp`) would otherwise reach
 * the SDK, which joins it to the origin into an invalid URL (a 500). nginx
 * and every client send origin form.
 */
function originFormOnly(req: Request, res: Response, next: NextFunction): void {
  if (req.url.startsWith('/')) return next();
  sendJsonRpcError(res, 400, JsonRpcCode.InvalidRequest, 'Bad Request: the request target must be a path');
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

/**
 * Deepest JSON nesting accepted. Far beyond any MCP message, and far below
 * what recursive code downstream survives (the SDK's `JSON.stringify` of the
 * body overflows the stack near 10 000 levels: a 500 without this bound).
 */
export const MAX_JSON_DEPTH = 256;

/** Throws (as a 400 for the body parser) when `buf`'s JSON nests deeper than {@link MAX_JSON_DEPTH}; one pass, strings skipped. */
export function refuseDeepJson(_req: unknown, _res: unknown, buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) throw Object.assign(new Error('JSON nesting too deep'), { status: 400, type: 'entity.too.deep' });
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** JSON body parser with the configured limit; its errors become JSON-RPC errors. */
function jsonBody(limit: number) {
  const parse = express.json({ limit, type: ['application/json', 'application/*+json'], verify: refuseDeepJson });
  const tooLarge = (res: Response) => sendJsonRpcError(res, 413, JsonRpcCode.InvalidRequest, `Request body exceeds the limit of ${limit} bytes`);
  return (req: Request, res: Response, next: NextFunction) => {
    // A declared length over the limit is refused at once, and the connection closed: the body
    // parser would first read (and discard) all of it, holding the request open for as long as
    // the client takes to send a terabyte it announced.
    if (Number(req.headers['content-length']) > limit) {
      res.setHeader('Connection', 'close');
      return tooLarge(res);
    }
    return parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number };
      if (e.type === 'entity.too.large') return tooLarge(res);
      if (e.type === 'entity.too.deep') {
        return sendJsonRpcError(res, 400, JsonRpcCode.InvalidRequest, `Request body nests deeper than ${MAX_JSON_DEPTH} levels`);
      }
      if (e.type === 'entity.parse.failed') {
        return sendJsonRpcError(res, 400, JsonRpcCode.ParseError, 'Parse error: the body is not valid JSON');
      }
      return sendJsonRpcError(res, e.status && e.status < 500 ? e.status : 400, JsonRpcCode.InvalidRequest, 'Unreadable request body');
    });
  };
}

/** `X-Portico-Instance` on every response: which instance of a fleet answered. */
function instanceHeader(id: string): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('X-Portico-Instance', id);
    next();
  };
}

/** `/mcp`, as express's router matches it (case-insensitive, an optional trailing slash). */
const MCP_PATH = /^\/mcp\/?$/i;

/**
 * `/mcp` served from express, ahead of Nest's router and its middleware:
 * the app's global guards ({@link GLOBAL_GUARDS}: auth, then rate limits)
 * run on the request, then {@link McpController}; errors are answered like
 * the app's exception filter answers them. What this
 * skips, per call: Nest's middleware and route lookup (every route of the
 * app is tried in turn), its guard and interceptor consumers, parameter
 * decorators and exception zone. Other methods fall through to Nest, which
 * answers 404.
 */
function mcpRoute(controller: McpController, guards: { canActivate(context: ExecutionContext): Promise<boolean> }[]): RequestHandler {
  const logger = new Logger('McpController');
  const handlers: Record<string, (req: Request, res: Response, principal: Principal) => Promise<void>> = {
    POST: controller.post,
    GET: controller.get,
    HEAD: controller.get,
    DELETE: controller.delete,
  };
  return (req, res, next) => {
    const handler = handlers[req.method];
    if (!handler || !MCP_PATH.test(req.path)) return next();
    const context = new ExecutionContextHost([req, res, next], McpController, handler);
    void (async () => {
      for (const guard of guards) if (!(await guard.canActivate(context))) throw new ForbiddenException('Forbidden resource');
      await handler.call(controller, req, res, (req as Request & { user: Principal }).user);
    })().catch((e: unknown) => sendError(res, e, logger));
  };
}

/**
 * The express layer of the MCP app, in order: security headers
 * (helmet), the `X-Portico-Instance` header (unless INSTANCE_HEADER is off), request id and
 * async context, the request log, request metrics, Host and Origin validation (403),
 * `beforeBody` (handlers that read the raw body themselves: the built-in
 * authorization server), JSON body with a limit (413), the drain gate
 * (503 while shutting down), then `/mcp` ({@link mcpRoute}). Other routes
 * go on to Nest, whose global guards run auth and rate limits.
 */
export function applyHttpPipeline(app: NestExpressApplication, config: AppConfig, beforeBody: RequestHandler[] = []): void {
  app.set('trust proxy', config.http.trustProxy);
  app.disable('x-powered-by');
  app.use(
    inSequence([
      securityHeaders(),
      ...(config.instance.header ? [instanceHeader(config.instance.id)] : []),
      requestContextMiddleware,
      requestLog(PinoLogger.root),
      app.get(MetricsService).httpMiddleware(),
      originFormOnly,
      logged('Host', hostHeaderValidation(allowedHostnames(config))),
      logged('Origin', originValidation(allowedOriginHostnames(config))),
      ...beforeBody,
      jsonBody(config.http.maxBodyBytes),
      app.get(LifecycleService).middleware(),
      mcpRoute(app.get(McpController), GLOBAL_GUARDS.map((guard) => app.get(guard))),
    ]),
  );
}

/**
 * Runs `handlers` one after the other as a single express middleware, as
 * express would (an error passed to `next`, thrown, or a rejected promise goes
 * to express's error handling): express's router costs a few microseconds per
 * layer on every request, so the pipeline is one layer.
 */
function inSequence(handlers: RequestHandler[]): RequestHandler {
  return (req, res, done) => {
    let i = 0;
    const next = (err?: unknown) => {
      const handler = handlers[i++];
      if (err || !handler) return done(err);
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise) result.catch((e: unknown) => done(e ?? new Error('Rejected promise')));
      } catch (e) {
        done(e);
      }
    };
    next();
  };
}
