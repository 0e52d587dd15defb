import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import type { Response } from 'express';
import { JsonRpcCode, sendJsonRpcError } from './json-rpc-error';

/**
 * Renders every error of the MCP app as a JSON-RPC error body. Unexpected
 * errors are logged with their stack and answered with a generic message.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendError(host.switchToHttp().getResponse<Response>(), exception, this.logger);
  }
}

/**
 * Answers an error as a JSON-RPC error body: an `HttpException` with its
 * status and message; anything else is logged with its stack and answered
 * 500 with a generic message. The MCP app's exception filter, and `/mcp`
 * (served ahead of Nest's router), answer errors through it.
 */
export function sendError(res: Response, exception: unknown, logger: Logger): void {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message = withoutQuery(typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message));
    sendJsonRpcError(res, status, status >= 500 ? JsonRpcCode.InternalError : JsonRpcCode.ServerError, message);
    return;
  }
  logger.error({ err: exception }, 'unhandled error');
  sendJsonRpcError(res, HttpStatus.INTERNAL_SERVER_ERROR, JsonRpcCode.InternalError, 'Internal server error');
}

/**
 * Nest's "no such route" message without the query string: `Cannot GET
 * /x?access_token=…` would hand a token sent in the URL back in the body.
 */
export function withoutQuery(message: string): string {
  return message.replace(/^(Cannot \w+ [^?\s]*)\?\S*$/, '$1');
}

/** The status app's 404s in Nest's shape, without the query string (see {@link withoutQuery}). */
@Catch(NotFoundException)
export class NotFoundFilter implements ExceptionFilter {
  catch(exception: NotFoundException, host: ArgumentsHost): void {
    const body = exception.getResponse() as { message?: unknown };
    const message = typeof body.message === 'string' ? withoutQuery(body.message) : body.message;
    host.switchToHttp().getResponse<Response>().status(404).json({ ...body, message });
  }
}
