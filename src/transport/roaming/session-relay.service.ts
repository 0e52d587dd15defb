import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type Transport,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { McpRegistry, type RegistryKind } from '@portico/mcp-core';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { MetricsService } from '../../metrics/metrics.service';
import { RedisService } from '../../redis/redis.service';
import { EVENT_STORE } from '../../session/event-store.interface';
import { GET_STREAM, type RedisEventStore, sessionChannel, type SessionSignal } from '../../session/redis-event.store';
import type { RedisSessionStore } from '../../session/redis-session.store';
import { SESSION_STORE } from '../../session/session-store.interface';

const SWEEP_INTERVAL_MS = 15_000;

/** A message for one instance, on its channel. */
type InstanceMessage = { t: 'response'; sessionId: string; message: JSONRPCMessage } | { t: 'cancel'; sessionId: string; message: JSONRPCMessage };

/** A server-to-client request sent from here, waiting for the client's answer (which may arrive at any instance). */
interface Outgoing {
  sessionId: string;
  transport: Transport;
  id: string | number;
}

/**
 * The standalone GET stream of a roaming session, held by this instance: it
 * delivers, in order, every message stored for the session's `_GET_stream`,
 * whoever stored it, and stops when another GET takes over, the session ends
 * or the client leaves.
 */
class HeldStream {
  readonly token = randomUUID();
  released = false;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  /** The Redis stream position of the last event delivered (or skipped as already known). */
  position = '0-0';
  private ready = false;
  private closed = false;
  private chain = Promise.resolve();
  /** Event ids of messages read from the store, so the SDK's send() does not store them again. */
  private readonly known = new WeakMap<object, string>();

  constructor(
    readonly sessionId: string,
    private readonly events: RedisEventStore,
    private readonly logger: Logger,
  ) {
    this.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      eventStore: {
        storeEvent: async (streamId, message) => this.known.get(message) ?? events.storeEvent(sessionId, streamId, message as JSONRPCMessage),
        getStreamIdForEventId: async (eventId) => events.streamIdOf(eventId),
        replayEventsAfter: (lastEventId, { send }) =>
          events.replayEventsAfter(sessionId, lastEventId, async (eventId, message) => {
            await send(eventId, message);
            this.position = eventId.slice(eventId.lastIndexOf('/') + 1);
          }),
      },
    });
  }

  /** The SDK has mapped the stream: deliver what came meanwhile, then every doorbell. */
  start(): void {
    this.ready = true;
    this.pump();
  }

  /** Reads what was stored after {@link position} and sends it down the stream, one pump at a time. */
  pump(): void {
    if (!this.ready || this.closed) return;
    this.chain = this.chain
      .then(async () => {
        for (const event of await this.events.readAfter(this.sessionId, GET_STREAM, this.position)) {
          if (this.closed) return;
          this.known.set(event.message, event.eventId);
          await this.transport.send(event.message).catch((e: unknown) => this.logger.debug({ err: e, sessionId: this.sessionId }, 'could not deliver an event'));
          this.position = event.position;
        }
      })
      .catch((e: unknown) => this.logger.warn({ err: e, sessionId: this.sessionId }, 'could not read events for a GET stream (retried on the next event)'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transport.close().catch(() => undefined);
  }
}

/**
 * The pub/sub side of roaming legacy sessions (REDIS_URL): what crosses
 * instances when any instance may serve any request of a session.
 *
 * - **GET streams.** The instance that receives a session's GET holds the
 *   stream; messages for it are stored in the session's event stream by
 *   whoever produces them (a tool call on another instance, a registry change,
 *   a resource update), and the store rings the session's doorbell
 *   (`ch:s:<id>`), on which the holder reads and delivers them. A new GET
 *   takes over from an older one, wherever it is (the SDK's one-GET rule,
 *   fleet-wide); DELETE, eviction and expiry close it.
 * - **Server-to-client requests** (elicitation, sampling, roots) leave with an
 *   id naming this instance (`<instance>~<n>`); the client's answer may reach
 *   any instance, which forwards it on this instance's channel (`ch:i:<id>`)
 *   to the waiting call. `notifications/cancelled` reaches every instance
 *   serving the session.
 * - **Fleet-wide notifications**: a registry change here sends `list_changed`
 *   to every live session, a resource update to every subscribed session.
 * - **Expiry**: one instance claims each expired session and records its end.
 */
@Injectable()
export class SessionRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SessionRelay');
  private readonly held = new Map<string, HeldStream>();
  private readonly unsubscribers = new Map<string, () => Promise<void>>();
  private readonly outgoing = new Map<string, Outgoing>();
  /** Per session: transports of requests being served here (for `notifications/cancelled`). */
  private readonly inflight = new Map<string, Set<Transport>>();
  private readonly stops: (() => unknown)[] = [];
  private pendingKinds = new Set<RegistryKind>();
  private sweeper?: NodeJS.Timeout;
  private counter = 0;
  private readonly instanceId: string;

  constructor(
    private readonly redis: RedisService,
    @Inject(SESSION_STORE) private readonly store: RedisSessionStore,
    @Inject(EVENT_STORE) private readonly events: RedisEventStore,
    private readonly registry: McpRegistry,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.instanceId = config.instance.id;
  }

  async onApplicationBootstrap(): Promise<void> {
    // After boot only: the tools registered while booting are no change for the fleet's sessions.
    this.stops.push(this.registry.onChange((kind) => this.listChanged(kind)));
    this.stops.push(this.registry.onResourceUpdated((uri) => void this.resourceUpdated(uri)));
    this.stops.push(this.redis.onReconnect(() => this.catchUp()));
    this.stops.push(await this.redis.subscribe(this.redis.key('ch', 'i', this.instanceId), (m) => this.onInstanceMessage(m)));
    this.stops.push(await this.redis.subscribe(this.redis.key('ch', 'cancel'), (m) => this.onCancel(m)));
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  /** GET streams held here. */
  get heldStreams(): number {
    return this.held.size;
  }

  /** Ids of the sessions whose GET stream this instance holds. */
  heldSessionIds(): string[] {
    return [...this.held.keys()];
  }

  /** Closes every stream held here and stops listening (shutdown): clients reconnect to another instance. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    for (const stop of this.stops.splice(0)) await stop();
    await Promise.all([...this.held.values()].map((h) => this.release(h)));
    await Promise.all([...this.inflight.values()].flatMap((set) => [...set].map((t) => t.close().catch(() => undefined))));
  }

  /**
   * Holds a session's GET stream here. `start` must be called once the SDK
   * has answered the GET (the stream is mapped); `release` when it ends.
   */
  async hold(sessionId: string, lastEventId: string | undefined): Promise<HeldStream> {
    const stream = new HeldStream(sessionId, this.events, this.logger);
    const previous = this.held.get(sessionId);
    this.held.set(sessionId, stream);
    this.metrics.roamingStream(1);
    try {
      if (previous) await this.release(previous);
      if (!this.unsubscribers.has(sessionId)) {
        this.unsubscribers.set(sessionId, await this.redis.subscribe(sessionChannel(this.redis, sessionId), (m) => this.onSessionSignal(sessionId, m)));
      }
      // Where delivery starts: after what the client says it has, else after what is stored now.
      const position = lastEventId !== undefined ? /\/(\d+-\d+)$/.exec(lastEventId)?.[1] : undefined;
      stream.position = position ?? (await this.events.latest(sessionId));
      await this.signal(sessionId, { t: 'takeover', holder: stream.token });
      return stream;
    } catch (e) {
      await this.release(stream);
      throw e;
    }
  }

  /** Lets a held stream go (the client left, another GET took over, the session ended). Safe to call twice. */
  async release(stream: HeldStream): Promise<void> {
    if (stream.released) return;
    stream.released = true;
    this.metrics.roamingStream(-1);
    await stream.close();
    if (this.held.get(stream.sessionId) !== stream) return;
    this.held.delete(stream.sessionId);
    const unsubscribe = this.unsubscribers.get(stream.sessionId);
    this.unsubscribers.delete(stream.sessionId);
    await unsubscribe?.();
  }

  /** Sends `message` to the session's GET stream, wherever it is held (stored first, so a reconnecting client gets it too). */
  async notify(sessionId: string, message: JSONRPCMessage): Promise<void> {
    await this.events.storeEvent(sessionId, GET_STREAM, message);
  }

  /** Tells every instance a session ended: its GET stream closes. */
  async ended(sessionId: string): Promise<void> {
    await Promise.all([this.signal(sessionId, { t: 'closed' }), this.events.deleteSession(sessionId)]).catch((e: unknown) =>
      this.logger.warn({ err: e, sessionId }, 'could not announce the end of a session'),
    );
    const local = this.held.get(sessionId);
    if (local) await this.release(local);
  }

  /**
   * Serves one request's transport: its server-to-client requests get ids
   * that name this instance, and it hears `notifications/cancelled` of its
   * session from any instance. Returns what to await before closing it (the
   * answers to every request of the POST) and the function that forgets it.
   */
  track(sessionId: string, transport: Transport, requestIds: (string | number)[]): { answered: Promise<void>; untrack: () => void } {
    const waiting = new Set(requestIds);
    let resolve!: () => void;
    const answered = new Promise<void>((r) => (resolve = r));
    if (!waiting.size) resolve();
    const mine: string[] = [];
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      if (isJSONRPCRequest(message)) {
        const wire = `${this.instanceId}~${++this.counter}`;
        this.outgoing.set(wire, { sessionId, transport, id: message.id });
        mine.push(wire);
        return send({ ...message, id: wire }, options);
      }
      if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && waiting.delete(message.id as string | number) && !waiting.size) {
        await send(message, options);
        resolve();
        return;
      }
      return send(message, options);
    };
    let set = this.inflight.get(sessionId);
    if (!set) this.inflight.set(sessionId, (set = new Set()));
    set.add(transport);
    return {
      answered,
      untrack: () => {
        for (const wire of mine) this.outgoing.delete(wire);
        set.delete(transport);
        if (!set.size && this.inflight.get(sessionId) === set) this.inflight.delete(sessionId);
      },
    };
  }

  /** A client's answer to a server-to-client request: to the waiting call, here or on its instance. */
  async routeResponse(sessionId: string, message: JSONRPCMessage): Promise<void> {
    const wire = String((message as { id?: unknown }).id);
    if (this.deliverResponse(sessionId, message)) return;
    const instance = wire.includes('~') ? wire.slice(0, wire.lastIndexOf('~')) : undefined;
    if (!instance || instance === this.instanceId) {
      this.logger.debug({ sessionId, id: wire }, 'answer to a request nobody waits for: dropped');
      return;
    }
    await this.redis.publish(this.redis.key('ch', 'i', instance), JSON.stringify({ t: 'response', sessionId, message } satisfies InstanceMessage));
  }

  /** `notifications/cancelled` from the client: to every instance serving a request of the session. */
  async routeCancel(sessionId: string, message: JSONRPCMessage): Promise<void> {
    this.deliverCancel(sessionId, message);
    await this.redis.publish(this.redis.key('ch', 'cancel'), JSON.stringify({ t: 'cancel', sessionId, message } satisfies InstanceMessage));
  }

  private deliverResponse(sessionId: string, message: JSONRPCMessage): boolean {
    const wire = String((message as { id?: unknown }).id);
    const waiting = this.outgoing.get(wire);
    if (!waiting || waiting.sessionId !== sessionId) return false;
    this.outgoing.delete(wire);
    waiting.transport.onmessage?.({ ...message, id: waiting.id } as JSONRPCMessage);
    return true;
  }

  private deliverCancel(sessionId: string, message: JSONRPCMessage): void {
    for (const transport of this.inflight.get(sessionId) ?? []) transport.onmessage?.(message);
  }

  private onInstanceMessage(raw: string): void {
    const message = JSON.parse(raw) as InstanceMessage;
    if (message.t === 'response' && !this.deliverResponse(message.sessionId, message.message)) {
      this.logger.debug({ sessionId: message.sessionId }, 'forwarded answer arrived after its call ended: dropped');
    }
  }

  private onCancel(raw: string): void {
    const message = JSON.parse(raw) as InstanceMessage;
    if (message.t === 'cancel') this.deliverCancel(message.sessionId, message.message);
  }

  private onSessionSignal(sessionId: string, raw: string): void {
    const stream = this.held.get(sessionId);
    if (!stream) return;
    const signal = JSON.parse(raw) as SessionSignal;
    if (signal.t === 'event') stream.pump();
    else if (signal.t === 'closed' || (signal.t === 'takeover' && signal.holder !== stream.token)) void this.release(stream);
  }

  private async signal(sessionId: string, signal: SessionSignal): Promise<void> {
    await this.redis.publish(sessionChannel(this.redis, sessionId), JSON.stringify(signal));
  }

  /** Pub/sub lost messages while it was away: every held stream reads what it missed. */
  private catchUp(): void {
    for (const stream of this.held.values()) stream.pump();
  }

  /** Registry changes of one tick become one `list_changed` per kind to every live session of the fleet. */
  private listChanged(kind: RegistryKind): void {
    if (this.pendingKinds.size === 0) {
      setImmediate(() => {
        const kinds = [...this.pendingKinds];
        this.pendingKinds = new Set();
        void this.fanOut(kinds.map((k) => ({ jsonrpc: '2.0', method: `notifications/${k}/list_changed` }) as JSONRPCMessage));
      });
    }
    this.pendingKinds.add(kind);
  }

  private async fanOut(messages: JSONRPCMessage[]): Promise<void> {
    try {
      const ids = await this.store.ids();
      await Promise.all(ids.flatMap((id) => messages.map((m) => this.notify(id, m))));
    } catch (e) {
      this.logger.warn({ err: e }, 'could not send list_changed to the sessions');
    }
  }

  private async resourceUpdated(uri: string): Promise<void> {
    try {
      const ids = await this.store.subscribers(uri);
      await Promise.all(ids.map((id) => this.notify(id, { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } })));
    } catch (e) {
      this.logger.warn({ err: e, uri }, 'could not send a resource update to the sessions');
    }
  }

  /** Records the end of sessions that expired (one instance claims each), and closes held streams of ended sessions. */
  async sweep(): Promise<void> {
    try {
      for (const id of await this.store.claimExpired()) {
        this.logger.log({ sessionId: id }, 'session expired');
        this.metrics.roamingSessionEnded('expired');
        this.audit.record({ kind: 'session_expired', outcome: 'expired', sessionId: id, era: 'legacy', detail: { transport: 'streamable-http' } });
        await this.ended(id);
      }
      for (const [id, stream] of this.held) if (!(await this.store.get(id))) await this.release(stream);
    } catch (e) {
      this.logger.debug({ err: e }, 'session sweep skipped: Redis unavailable');
    }
  }
}
