import type { DynamicModule, LoggerService } from '@nestjs/common';
import { Logger, LoggerModule, PinoLogger, type Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { requestContext } from './request-context';

const SECRET_PARAM = /token|key|secret|password|passwd|code|auth|signature/i;

/** The URL with the values of secret-looking query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_PARAM.test(key)) params.set(key, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** pino options shared by the apps and the CLI: JSON on stderr, secrets redacted. */
export function pinoOptions(level: string): pino.LoggerOptions {
  return {
    level,
    base: { service: 'portico' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const ctx = requestContext.getStore();
      return ctx ? { requestId: ctx.requestId, sessionId: ctx.sessionId, principal: ctx.principalId, tool: ctx.tool } : {};
    },
    redact: {
      paths: ['*.authorization', '*.token', '*.password', '*.headers.authorization', '*.headers.cookie'],
      censor: '[redacted]',
    },
  };
}

/** stdout belongs to the stdio transport: every log line goes to stderr. */
export const stderr = () => pino.destination({ fd: 2, sync: true });

/**
 * nestjs-pino settings: its logger, without its per-request middleware
 * (pino-http: a child logger and a chain of serialisers per request);
 * {@link requestLog} logs the requests and the mixin adds the request id.
 */
function loggerParams(config: AppConfig): Params {
  return { pinoHttp: [pinoOptions(config.log.level), stderr()], forRoutes: [] };
}

/** Requests not logged: load balancers' health checks. */
const UNLOGGED = (url: string) => url.startsWith('/health') || url === '/';

/**
 * Express middleware logging each request once, at `info`, when its response
 * is done: "request completed", "request errored" (5xx) or "request aborted"
 * (the client left first), with the method, the URL (secret-looking query
 * values redacted), the user agent, `MCP-Protocol-Version`, the status and
 * the time taken. Headers are never logged. Costs nothing below `info`.
 */
export function requestLog(logger: pino.Logger): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const url = req.url ?? '';
    if (!logger.isLevelEnabled('info') || UNLOGGED(url)) return next();
    const started = Date.now();
    const requestId = requestContext.getStore()?.requestId;
    res.once('close', () => {
      const statusCode = res.statusCode;
      const aborted = req.readableAborted || !res.writableEnded;
      logger.info(
        {
          requestId,
          req: {
            method: req.method,
            url: redactUrl(url),
            userAgent: req.headers['user-agent'],
            mcpProtocolVersion: req.headers['mcp-protocol-version'],
            remoteAddress: req.socket?.remoteAddress,
          },
          res: { statusCode },
          responseTime: Date.now() - started,
        },
        statusCode >= 500 ? 'request errored' : aborted ? 'request aborted' : 'request completed',
      );
    });
    next();
  };
}

/** nestjs-pino for an app's DI container (`Logger`, `PinoLogger`). */
export function loggerModule(config: AppConfig): DynamicModule {
  return LoggerModule.forRoot(loggerParams(config));
}

/**
 * The same JSON-on-stderr logger for Nest itself from the first line of boot,
 * outside DI (pass it as the `logger` option): what Nest logs while the app
 * boots, or fails to, never reaches stdout.
 */
export function nestLogger(config: AppConfig): LoggerService {
  const params = loggerParams(config);
  return new Logger(new PinoLogger(params), params);
}
