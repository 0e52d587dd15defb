import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type McpContext, type ToolContext, ToolError } from '@portico/mcp-core';
import { OpenProjectClient, OpenProjectError, OpenProjectErrorCode } from '@portico/openproject-client';
import { createHash } from 'node:crypto';
import type { Repository } from 'typeorm';
import { APP_CONFIG, type AppConfig, type OpenProjectConfig } from '../../config/app-config';
import { KeyCipher } from './key-cipher';
import { OpenProjectAccount } from './openproject-account.entity';
import { OpenProjectRefusal, toToolError } from './openproject-tool.error';

/** The OpenProject user a call acts as: recorded in the audit log next to the Portico principal. */
export interface ActingUser {
  id: number;
  login?: string;
  name: string;
}

/** A client bound to the caller's OpenProject identity. */
export interface OpenProjectSession {
  client: OpenProjectClient;
  user: ActingUser;
  identity: OpenProjectConfig['identity'];
}

/**
 * Who a call acts as in OpenProject. Service mode: the owner of
 * OPENPROJECT_API_KEY, for everyone. Per-user mode: the principal's own key,
 * linked once with `openproject_link_account` and stored AES-256-GCM
 * encrypted; a principal without one is refused. Either way `forCall` adds
 * `{ openproject: { identity, user } }` to the call's audit detail.
 */
@Injectable()
export class OpenProjectIdentityService implements OnApplicationShutdown {
  readonly config: OpenProjectConfig;
  /** The shared connection pool; the service account's client when a service key is configured. */
  readonly base: OpenProjectClient;
  private readonly cipher?: KeyCipher;
  /** `users/me` per key digest, so the acting user is known without a lookup per call. */
  private readonly whoCache = new Map<string, { user: ActingUser; expires: number }>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectRepository(OpenProjectAccount) private readonly accounts: Repository<OpenProjectAccount>,
  ) {
    this.config = config.openproject!;
    this.base = new OpenProjectClient(
      { baseUrl: this.config.url, timeoutMs: this.config.timeoutMs, forwardedProto: this.config.forwardedProto, hostHeader: this.config.hostHeader },
      this.config.apiKey,
    );
    if (this.config.encryptionKey) this.cipher = new KeyCipher(this.config.encryptionKey);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.base.close();
  }

  /** The client for this call's principal, with the acting OpenProject user recorded for the audit. */
  async forCall(ctx: ToolContext | McpContext): Promise<OpenProjectSession> {
    const apiKey = await this.keyFor(ctx);
    const client = this.config.identity === 'service' ? this.base : this.base.withApiKey(apiKey);
    let user: ActingUser;
    try {
      user = await this.whoIs(client, apiKey, ctx.signal);
    } catch (e) {
      throw toToolError(e);
    }
    if ('auditDetail' in ctx) ctx.auditDetail({ openproject: { identity: this.config.identity, user } });
    return { client, user, identity: this.config.identity };
  }

  /**
   * Links `apiKey` to the principal (per-user mode): checks it against
   * `users/me`, stores it encrypted, and returns whose it is.
   */
  async link(principalId: string, apiKey: string, signal?: AbortSignal): Promise<ActingUser> {
    if (!this.cipher) throw new ToolError('Linking accounts is only available with OPENPROJECT_IDENTITY=per-user.');
    let user: ActingUser;
    try {
      user = await this.whoIs(this.base.withApiKey(apiKey), apiKey, signal, true);
    } catch (e) {
      if (e instanceof OpenProjectError && e.code === OpenProjectErrorCode.Unauthenticated) {
        throw new ToolError('OpenProject does not accept this API key: copy it again from My account → Access tokens → API in OpenProject.', { code: 'openproject.unauthenticated' });
      }
      throw toToolError(e);
    }
    await this.accounts.save({
      principalId,
      openprojectUserId: user.id,
      openprojectLogin: user.login ?? null,
      openprojectName: user.name,
      apiKeySealed: this.cipher.encrypt(apiKey, principalId),
      keyId: this.cipher.keyId,
      linkedAt: new Date(),
    });
    return user;
  }

  /** Forgets the principal's key; true when one was linked. */
  async unlink(principalId: string): Promise<boolean> {
    const result = await this.accounts.delete({ principalId });
    return Boolean(result.affected);
  }

  async linked(principalId: string): Promise<OpenProjectAccount | null> {
    return this.accounts.findOneBy({ principalId });
  }

  private async keyFor(ctx: McpContext): Promise<string> {
    if (this.config.identity === 'service') return this.config.apiKey!;
    const account = await this.accounts.findOneBy({ principalId: ctx.principal.id });
    const refuse = (message: string): never => {
      if ('auditDetail' in ctx) (ctx as ToolContext).auditDetail({ refusal: { reason: OpenProjectRefusal.AccountNotLinked } });
      throw new ToolError(message, { code: OpenProjectRefusal.AccountNotLinked });
    };
    if (!account) {
      return refuse(
        'Your Portico account is not linked to an OpenProject account. Create an API key in OpenProject (My account → Access tokens → API) and call openproject_link_account with it.',
      );
    }
    if (account.keyId !== this.cipher!.keyId) {
      return refuse('Your linked OpenProject key was stored under an encryption key this Portico no longer has: link your account again with openproject_link_account.');
    }
    try {
      return this.cipher!.decrypt(account.apiKeySealed, ctx.principal.id);
    } catch {
      return refuse('Your linked OpenProject key cannot be read: link your account again with openproject_link_account.');
    }
  }

  private async whoIs(client: OpenProjectClient, apiKey: string, signal?: AbortSignal, fresh = false): Promise<ActingUser> {
    const digest = createHash('sha256').update(apiKey).digest('base64url');
    const cached = this.whoCache.get(digest);
    if (!fresh && cached && cached.expires > Date.now()) return cached.user;
    const me = await client.me(signal);
    const user: ActingUser = { id: me.id, login: me.login, name: me.name };
    this.whoCache.set(digest, { user, expires: Date.now() + Math.max(this.config.cacheTtlMs, 1000) });
    return user;
  }
}
