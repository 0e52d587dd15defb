import type { SessionLimits, SessionPatch, SessionRecord, SessionStore } from './session-store.interface';

/** In-process {@link SessionStore}: one instance only; sessions end with the process. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  /** principalId → session ids, oldest first. */
  private readonly byPrincipal = new Map<string, Set<string>>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async create(record: SessionRecord): Promise<string[]> {
    this.sessions.set(record.id, { ...record });
    let ids = this.byPrincipal.get(record.principalId);
    if (!ids) this.byPrincipal.set(record.principalId, (ids = new Set()));
    ids.add(record.id);
    const evicted: string[] = [];
    if (ids.size <= this.limits.maxPerPrincipal) return evicted;
    // Expired sessions must not count toward the cap, or a live one is evicted in their place.
    for (const id of [...ids]) this.alive(id);
    while (ids.size > this.limits.maxPerPrincipal) {
      // The session idle the longest goes (its client is the least likely to come back), never the new one.
      let idlest: SessionRecord | undefined;
      for (const id of ids) {
        const candidate = this.sessions.get(id)!;
        if (id !== record.id && (!idlest || candidate.lastSeenAt < idlest.lastSeenAt)) idlest = candidate;
      }
      this.remove(idlest!);
      evicted.push(idlest!.id);
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
    ids.delete(record.id);
    if (!ids.size) this.byPrincipal.delete(record.principalId);
  }
}
