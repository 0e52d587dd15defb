import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
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
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
      sendJsonRpcError(res, status, status >= 500 ? JsonRpcCode.InternalError : JsonRpcCode.ServerError, message);
      return;
    }
    this.logger.error({ err: exception }, 'unhandled error');
    sendJsonRpcError(res, HttpStatus.INTERNAL_SERVER_ERROR, JsonRpcCode.InternalError, 'Internal server error');
  }
}
