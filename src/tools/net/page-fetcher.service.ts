import { Inject, Injectable } from '@nestjs/common';
import { ToolError } from '@portico/mcp-core';
import type { convert as Convert } from 'html-to-text';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { PACKAGE_VERSION } from '../../common/paths';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { type GuardedTarget, type RefusalContext, SsrfGuard } from './ssrf/ssrf-guard.service';

/** What `net_fetch_page` returns. */
export interface FetchedPage {
  /** The URL asked for. */
  url: string;
  /** Where the body came from, after redirects. */
  final_url: string;
  status: number;
  status_text: string;
  content_type: string | null;
  /** Each redirect followed: the URL that answered with it, and its status. */
  redirects: { url: string; status: number }[];
  /** Body bytes read (after decompression), at most `max_bytes`. */
  bytes: number;
  /** True when the body was longer than `max_bytes` and reading stopped there. */
  truncated: boolean;
  max_bytes: number;
  title: string | null;
  /** The body as readable text (HTML converted), or null for binary content. */
  text: string | null;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const HTML = /^(text\/html|application\/xhtml\+xml)\b/i;
const TEXTUAL = /^(text\/|application\/(json|xml|javascript|ecmascript|x-www-form-urlencoded)\b|application\/[\w.+-]+\+(json|xml)\b)/i;

/** The URL as audit and results show it: no credentials, no query, no fragment (they may carry tokens). */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * GETs a page for `net_fetch_page` through the SSRF guard: each hop (the
 * first URL and every redirect target) is checked and then connected to by
 * the address the guard resolved, with the original Host header and TLS
 * server name (so certificates are verified against the name). Reads at most
 * `maxBytes` of the (decompressed) body, within NET_FETCH_TIMEOUT_MS for the
 * whole fetch, following at most NET_FETCH_MAX_REDIRECTS redirects.
 */
@Injectable()
export class PageFetcher {
  constructor(
    private readonly guard: SsrfGuard,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async fetch(url: URL, maxBytes: number, signal: AbortSignal): Promise<FetchedPage> {
    const { timeoutMs, maxRedirects } = this.config.net.fetch;
    const timeout = AbortSignal.timeout(timeoutMs);
    const stop = AbortSignal.any([signal, timeout]);
    const redirects: FetchedPage['redirects'] = [];
    let current = url;
    try {
      for (let hop = 0; ; hop++) {
        checkFetchable(current, hop);
        const context: RefusalContext = hop ? { hop, redirected_from: redirects[hop - 1].url } : {};
        const target = await this.guard.checkUrl(current, { signal: stop, context });
        const response = await send(target, current, stop);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECTS.has(status) && location) {
          response.destroy();
          if (redirects.length >= maxRedirects) {
            throw new ToolError(`Stopped after ${maxRedirects} redirects (the next one went to ${displayUrl(resolveLocation(location, current))})`, {
              code: 'net_too_many_redirects',
            });
          }
          redirects.push({ url: displayUrl(current), status });
          current = resolveLocation(location, current);
          continue;
        }
        const contentType = response.headers['content-type'] ?? null;
        const { body, truncated } = await readBody(response, maxBytes);
        const { title, text } = readable(body, contentType);
        return {
          url: url.href,
          final_url: current.href,
          status,
          status_text: response.statusMessage ?? '',
          content_type: contentType,
          redirects,
          bytes: body.length,
          truncated,
          max_bytes: maxBytes,
          title,
          text,
        };
      }
    } catch (e) {
      if (timeout.aborted && !signal.aborted) {
        throw new ToolError(`Fetching ${displayUrl(current)} took longer than ${timeoutMs / 1000} s`, { code: 'net_timeout' });
      }
      if (e instanceof ToolError || signal.aborted) throw e;
      throw networkError(e as NodeJS.ErrnoException, current);
    }
  }
}

function checkFetchable(url: URL, hop: number): void {
  const where = hop ? `redirect ${hop} goes to` : 'the URL is';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolError(`Only http and https pages can be fetched (${where} a ${url.protocol} URL)`, { code: 'net_bad_url' });
  }
  if (url.username || url.password) throw new ToolError(`URLs with credentials are not fetched (${where} one)`, { code: 'net_bad_url' });
}

function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    throw new ToolError(`${displayUrl(base)} redirected to an invalid URL`, { code: 'net_bad_url' });
  }
}

/** One GET to the guarded address, presenting the original host name. Resolves with the response head. */
function send(target: GuardedTarget, url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(
      {
        host: target.address,
        family: target.family,
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: {
          host: url.host,
          'user-agent': `Portico/${PACKAGE_VERSION} (MCP net_fetch_page)`,
          accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5',
          'accept-encoding': 'gzip, deflate, br',
        },
        // A fresh connection per request: a pooled one could lead to another address.
        agent: false,
        signal,
        ...(secure && !target.literal && { servername: target.host }),
      },
      resolve,
    );
    request.once('error', reject);
    request.end();
  });
}

/** Reads up to `maxBytes` of the decoded body, then stops reading (and closes the connection). */
async function readBody(response: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; truncated: boolean }> {
  const encoding = String(response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  const stream: Readable = decoder ? response.pipe(decoder) : response;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      if (size + buffer.length > maxBytes) {
        chunks.push(buffer.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(buffer);
      size += buffer.length;
    }
  } finally {
    response.destroy();
    decoder?.destroy();
  }
  return { body: Buffer.concat(chunks, size), truncated };
}

/** The body as text: HTML converted to readable text, other text as is, binary as null. */
function readable(body: Buffer, contentType: string | null): { title: string | null; text: string | null } {
  const type = contentType ?? '';
  const looksHtml = !contentType && /^\s*(<!doctype html|<html)/i.test(body.subarray(0, 256).toString('latin1'));
  if (!HTML.test(type) && !TEXTUAL.test(type) && !looksHtml) return { title: null, text: null };
  const source = decode(body, /charset=["']?([\w.:-]+)/i.exec(type)?.[1]);
  if (!HTML.test(type) && !looksHtml) return { title: null, text: source };
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(source)?.[1];
  // Loaded with the first HTML page, not at boot.
  const { convert } = require('html-to-text') as { convert: typeof Convert };
  return {
    title: title ? convert(title, { wordwrap: false }).trim() || null : null,
    text: convert(source, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
        { selector: 'img', format: 'skip' },
        ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
      ],
    }),
  };
}

function decode(body: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

/** A connection failure, in words the model can act on. */
function networkError(e: NodeJS.ErrnoException, url: URL): ToolError {
  const where = displayUrl(url);
  const code = e.code ?? 'error';
  const message =
    code === 'ECONNREFUSED'
      ? `Connection to ${url.host} was refused`
      : code === 'ECONNRESET'
        ? `${url.host} closed the connection`
        : code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('UNABLE_TO') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
          ? `TLS with ${url.host} failed (${code})`
          : `Fetching ${where} failed (${code})`;
  return new ToolError(message, { code: 'net_fetch_failed', detail: { url: where, error: code } });
}
