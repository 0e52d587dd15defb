/** What Portico keeps about a legacy-era (2025-xx) session. */
export interface SessionRecord {
  id: string;
  /** The principal that opened the session; only it may use the session. */
  principalId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  lastSeenAt: number;
  protocolVersion?: string;
  clientName?: string;
  /**
   * What a session served by any instance needs to be rebuilt (REDIS_URL,
   * `transport/roaming`): the `initialize` request's params, the log level
   * last set, and the scopes last presented (their change means list_changed).
   */
  initialize?: Record<string, unknown>;
  logLevel?: string;
  scopes?: string[];
  /** `sse` sessions live on one instance (their stream): which one, for forwarding their messages. */
  owner?: string;
}

/** What {@link SessionStore.update} may change. */
export type SessionPatch = Partial<Pick<SessionRecord, 'protocolVersion' | 'clientName' | 'logLevel' | 'scopes'>>;

/**
 * Where legacy sessions live. Implementations enforce the idle TTL (sliding on
 * {@link touch}), the absolute TTL, and the per-principal cap (the session
 * idle the longest — least recently seen — is evicted, never the new one). Memory by default; Redis for many instances.
 */
export interface SessionStore {
  /** Saves a new session; returns the ids of the principal's sessions evicted to stay under the cap. */
  create(record: SessionRecord): Promise<string[]>;
  /** The session if it is alive, without sliding its idle TTL. */
  get(id: string): Promise<SessionRecord | undefined>;
  /** The session if it is alive, sliding its idle TTL. */
  touch(id: string): Promise<SessionRecord | undefined>;
  update(id: string, patch: SessionPatch): Promise<void>;
  /** Removes the session; true when it existed. */
  delete(id: string): Promise<boolean>;
  /** Live sessions (for status and metrics). */
  count(): Promise<number>;
  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
}

export const SESSION_STORE = Symbol('SESSION_STORE');

export interface SessionLimits {
  idleTtlMs: number;
  maxAgeMs: number;
  maxPerPrincipal: number;
}
