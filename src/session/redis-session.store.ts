import type { RedisService } from '../redis/redis.service';
import type { SessionLimits, SessionPatch, SessionRecord, SessionStore } from './session-store.interface';

/*
 * Keys (under REDIS_PREFIX):
 *   s:<id>            hash: the record; expires after the idle TTL (capped by the absolute one), renewed by touch
 *   sessions          sorted set: id → when it expires (counts, fleet-wide list_changed, the expiry sweep)
 *   p:<principalId>   sorted set: id → last seen (the per-principal cap evicts the lowest: idle the longest)
 *   sub:<id>          set: resource URIs the session subscribed to; rsub:<uri> the reverse
 * Scripts touch keys they derive from the prefix: a single Redis (or a
 * replicated primary), not Redis Cluster.
 */

const CREATE = `
local now, ttl, maxAge, cap, id, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', prefix .. 's:' .. m) == 0 then redis.call('ZREM', KEYS[2], m) end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now, id)
redis.call('PEXPIRE', KEYS[2], maxAge)
redis.call('ZADD', KEYS[3], now + ttl, id)
local evicted = {}
local n = redis.call('ZCARD', KEYS[2])
if n > cap then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, n - cap - 1)) do
    redis.call('DEL', prefix .. 's:' .. m)
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZREM', KEYS[3], m)
    table.insert(evicted, m)
  end
end
return evicted`;

const TOUCH = `
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return false end
local now, idle, maxAge = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local created, principal = 0, nil
for i = 1, #h, 2 do
  if h[i] == 'createdAt' then created = tonumber(h[i + 1]) elseif h[i] == 'principalId' then principal = h[i + 1] end
end
local left = created + maxAge - now
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
local ttl = math.min(idle, left)
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
if principal then redis.call('ZADD', ARGV[5] .. 'p:' .. principal, 'XX', now, ARGV[4]) end
return h`;

const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return 1`;

const DELETE = `
local principal = redis.call('HGET', KEYS[1], 'principalId')
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if principal then redis.call('ZREM', ARGV[2] .. 'p:' .. principal, ARGV[1]) end
for _, uri in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SREM', ARGV[2] .. 'rsub:' .. uri, ARGV[1]) end
redis.call('DEL', KEYS[3])
return existed`;

type Scripted = {
  porticoSessionCreate(...args: (string | number)[]): Promise<string[]>;
  porticoSessionTouch(...args: (string | number)[]): Promise<string[] | null>;
  porticoSessionUpdate(...args: (string | number)[]): Promise<number>;
  porticoSessionDelete(...args: (string | number)[]): Promise<number>;
};

const JSON_FIELDS = new Set(['initialize', 'scopes']);
const NUMBER_FIELDS = new Set(['createdAt', 'lastSeenAt']);

/** The record as hash fields (undefined ones left out). */
function toFields(record: Partial<SessionRecord>): string[] {
  const fields: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined || key === 'id') continue;
    fields.push(key, JSON_FIELDS.has(key) ? JSON.stringify(value) : String(value));
  }
  return fields;
}

function fromFields(id: string, flat: string[] | Record<string, string>): SessionRecord {
  const entries = Array.isArray(flat) ? Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]) : Object.entries(flat);
  const record: Record<string, unknown> = { id };
  for (const [key, value] of entries) {
    record[key] = JSON_FIELDS.has(key) ? JSON.parse(value) : NUMBER_FIELDS.has(key) ? Number(value) : value;
  }
  return record as unknown as SessionRecord;
}

/**
 * {@link SessionStore} in Redis, shared by every instance: a hash per
 * session whose TTL is the idle TTL (renewed by {@link touch}, never past the
 * absolute TTL), the per-principal cap as a sorted set, all in one round trip
 * per call. Also keeps what a session needs beyond its record when any
 * instance may serve it: resource subscriptions.
 */
export class RedisSessionStore implements SessionStore {
  private readonly redis: RedisService['client'] & Scripted;

  constructor(
    private readonly service: RedisService,
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    const client = service.client;
    client.defineCommand('porticoSessionCreate', { numberOfKeys: 3, lua: CREATE });
    client.defineCommand('porticoSessionTouch', { numberOfKeys: 2, lua: TOUCH });
    client.defineCommand('porticoSessionUpdate', { numberOfKeys: 1, lua: UPDATE });
    client.defineCommand('porticoSessionDelete', { numberOfKeys: 3, lua: DELETE });
    this.redis = client as RedisService['client'] & Scripted;
  }

  async create(record: SessionRecord): Promise<string[]> {
    const ttl = Math.min(this.limits.idleTtlMs, this.limits.maxAgeMs);
    return this.redis.porticoSessionCreate(
      this.key('s', record.id),
      this.key('p', record.principalId),
      this.key('sessions'),
      record.createdAt,
      ttl,
      this.limits.maxAgeMs,
      this.limits.maxPerPrincipal,
      record.id,
      this.service.key(''),
      ...toFields(record),
    );
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const fields = await this.redis.hgetall(this.key('s', id));
    return Object.keys(fields).length ? fromFields(id, fields) : undefined;
  }

  async touch(id: string): Promise<SessionRecord | undefined> {
    const now = this.now();
    const fields = await this.redis.porticoSessionTouch(
      this.key('s', id),
      this.key('sessions'),
      now,
      this.limits.idleTtlMs,
      this.limits.maxAgeMs,
      id,
      this.service.key(''),
    );
    return fields ? { ...fromFields(id, fields), lastSeenAt: now } : undefined;
  }

  async update(id: string, patch: SessionPatch): Promise<void> {
    const fields = toFields(patch);
    if (fields.length) await this.redis.porticoSessionUpdate(this.key('s', id), ...fields);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.redis.porticoSessionDelete(this.key('s', id), this.key('sessions'), this.key('sub', id), id, this.service.key(''))) === 1;
  }

  async count(): Promise<number> {
    return this.redis.zcount(this.key('sessions'), this.now(), '+inf');
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** Ids of the sessions alive now, fleet-wide (for notifications every session gets). */
  async ids(): Promise<string[]> {
    return this.redis.zrangebyscore(this.key('sessions'), this.now(), '+inf');
  }

  /**
   * Claims sessions that expired (idle or absolute TTL) since the last sweep,
   * fleet-wide: each is returned to exactly one caller, whichever instance
   * asks first, so its end is recorded once.
   */
  async claimExpired(limit = 100): Promise<string[]> {
    const due = await this.redis.zrangebyscore(this.key('sessions'), '-inf', this.now(), 'LIMIT', 0, limit);
    const claimed: string[] = [];
    for (const id of due) {
      if (await this.redis.exists(this.key('s', id))) continue; // touched meanwhile
      if (await this.redis.zrem(this.key('sessions'), id)) claimed.push(id);
    }
    return claimed;
  }

  /** `resources/subscribe` of a session. */
  async subscribe(id: string, uri: string): Promise<void> {
    await this.redis
      .multi()
      .sadd(this.key('sub', id), uri)
      .pexpire(this.key('sub', id), this.limits.maxAgeMs)
      .sadd(this.key('rsub', uri), id)
      .pexpire(this.key('rsub', uri), this.limits.maxAgeMs)
      .exec();
  }

  async unsubscribe(id: string, uri: string): Promise<void> {
    await this.redis.multi().srem(this.key('sub', id), uri).srem(this.key('rsub', uri), id).exec();
  }

  /** Sessions subscribed to `uri`. */
  async subscribers(uri: string): Promise<string[]> {
    return this.redis.smembers(this.key('rsub', uri));
  }

  private key(...parts: string[]): string {
    return this.service.key(...parts);
  }
}
