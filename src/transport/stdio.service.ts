import { serveStdio, type StdioServerHandle, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { McpServerBuilder, type Principal } from '@portico/mcp-core';
import type { Readable, Writable } from 'node:stream';
import { localPrincipal } from '../auth/local-principal';

/**
 * The SDK's stdio transport, plus a promise that settles when the connection
 * ends: the client closed stdin, stdout broke, or the server closed it.
 */
class EndingStdioTransport extends StdioServerTransport {
  private end!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.end = resolve));

  override async close(): Promise<void> {
    await super.close();
    this.end();
  }
}

/**
 * `portico stdio`: the tool registry over stdin/stdout for one local client.
 * The SDK's `serveStdio` reads the client's opening message (`initialize`:
 * legacy era; a 2026-07-28 request or `server/discover`: modern era) and pins
 * one server from the builder for the connection's lifetime. There is no
 * auth: the caller is the local user who started the process.
 */
@Injectable()
export class StdioService implements OnApplicationShutdown {
  private readonly logger = new Logger('Stdio');
  private handle?: StdioServerHandle;
  /** Who every call on this connection is audited as. */
  readonly principal: Principal = localPrincipal();

  constructor(private readonly builder: McpServerBuilder) {}

  /**
   * Serves one client reading `input` (stdin) and writing `output` (stdout,
   * as claimed by `claimStdout`). Resolves when the connection has ended.
   */
  serve(input: Readable, output: Writable): Promise<void> {
    if (this.handle) throw new Error('StdioService already serves a connection');
    const transport = new EndingStdioTransport(input, output);
    this.handle = serveStdio(
      ({ era }) => {
        this.logger.log({ era, principal: this.principal.id }, 'stdio client connected');
        return this.builder.build({ principal: this.principal, era });
      },
      { transport, onerror: (e) => this.logger.warn({ err: e }, 'stdio connection error') },
    );
    return transport.ended;
  }

  /** Ends the connection; calls still running are aborted. */
  async close(): Promise<void> {
    await this.handle?.close();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
