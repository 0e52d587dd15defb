import type { SessionLimits, SessionPatch, SessionRecord, SessionStore } from './session-store.interface';

/** In-process {@link SessionStore}: one instance only; sessions end with the process. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  /** principalId → session ids. */
  private readonly byPrincipal = new Map<string, string[]>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async create(record: SessionRecord): Promise<string[]> {
    // Expired sessions must not count toward the cap, or a live one is evicted in their place.
    for (const id of [...(this.byPrincipal.get(record.principalId) ?? [])]) this.alive(id);
    this.sessions.set(record.id, { ...record });
    const ids = this.byPrincipal.get(record.principalId) ?? [];
    ids.push(record.id);
    this.byPrincipal.set(record.principalId, ids);
    const evicted: string[] = [];
    while (ids.length > this.limits.maxPerPrincipal) {
      // The session idle the longest goes (its client is the least likely to come back), never the new one.
      let idlest = 0;
      for (let i = 1; i < ids.length - 1; i++) if (this.sessions.get(ids[i])!.lastSeenAt < this.sessions.get(ids[idlest])!.lastSeenAt) idlest = i;
      const [gone] = ids.splice(idlest, 1);
      this.sessions.delete(gone);
      evicted.push(gone);
    }
    return evicted;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const record = this.alive(id);
    return record && { ...record };
  }

  async touch(id: string): Promise<SessionRecord | undefined> {
    const record = this.alive(id);
    if (!record) return undefined;
    record.lastSeenAt = this.now();
    return { ...record };
  }

  async update(id: string, patch: SessionPatch): Promise<void> {
    const record = this.alive(id);
    if (record) Object.assign(record, patch);
  }

  async delete(id: string): Promise<boolean> {
    const record = this.sessions.get(id);
    if (!record) return false;
    this.remove(record);
    return true;
  }

  async count(): Promise<number> {
    this.sweep();
    return this.sessions.size;
  }

  async ping(): Promise<void> {}

  /** Drops expired sessions. */
  sweep(): void {
    for (const id of [...this.sessions.keys()]) this.alive(id);
  }

  private alive(id: string): SessionRecord | undefined {
    const record = this.sessions.get(id);
    if (!record) return undefined;
    const now = this.now();
    if (now - record.lastSeenAt > this.limits.idleTtlMs || now - record.createdAt > this.limits.maxAgeMs) {
      this.remove(record);
      return undefined;
    }
    return record;
  }

  private remove(record: SessionRecord): void {
    this.sessions.delete(record.id);
    const ids = this.byPrincipal.get(record.principalId);
    if (!ids) return;
    const rest = ids.filter((i) => i !== record.id);
    if (rest.length) this.byPrincipal.set(record.principalId, rest);
    else this.byPrincipal.delete(record.principalId);
  }
}
