import { apiKeyStatus } from '../auth/api-key.service';
import { parseScopes } from '../auth/verification';
import type { AppConfig } from '../config/app-config';
import { commandArgs, UsageError } from './cli-args';
import { withCredentials } from './credentials-context';
import { printList } from './table';

export const KEYS_USAGE = `Usage:
  portico keys create --name <name> [--scopes a,b | --scopes '*'] [--expires 30d | --expires 2027-01-31]
  portico keys list [--json]
  portico keys revoke <id | prefix>

create prints the key on stdout, once: it is stored only as a hash. Without
--scopes the key sees only tools that require no scope; '*' grants all.
--expires takes a duration (90m, 12h, 30d, 8w) or a date.
`;

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d` → now + 30 days; `2027-01-31` (or a full ISO time) → that instant. */
export function parseExpiry(text: string, now = Date.now()): Date {
  const duration = /^(\d{1,6})([mhdw])$/.exec(text);
  if (duration) return new Date(now + Number(duration[1]) * UNITS[duration[2]]);
  const date = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(text) ? new Date(text) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new UsageError(`--expires ${text}: expected a duration (30d, 12h) or a date (2027-01-31)`, KEYS_USAGE);
  return date;
}

/** `portico keys create|list|revoke`. */
export async function keys(config: AppConfig, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { values, positionals } = commandArgs(rest, KEYS_USAGE, { name: { type: 'string' }, scopes: { type: 'string' }, expires: { type: 'string' } });
      if (typeof values.name !== 'string' || positionals.length) throw new UsageError('keys create needs --name and nothing else', KEYS_USAGE);
      const scopes = parseScopes(values.scopes as string | undefined);
      const expiresAt = typeof values.expires === 'string' ? parseExpiry(values.expires) : null;
      const { key, record } = await withCredentials(config, (c) => c.keys.create({ name: values.name as string, scopes, expiresAt }, c.actor));
      process.stderr.write(
        `Created API key ${record.prefix} ("${record.name}", scopes: ${record.scopes.join(',') || 'none'}, ` +
          `expires: ${record.expiresAt?.toISOString() ?? 'never'}). It is shown only this once:\n`,
      );
      process.stdout.write(`${key}\n`);
      return;
    }
    case 'list': {
      const { values, positionals } = commandArgs(rest, KEYS_USAGE, { json: { type: 'boolean' } });
      if (positionals.length) throw new UsageError('keys list takes no arguments', KEYS_USAGE);
      const list = await withCredentials(config, (c) => c.keys.list());
      const rows = list.map((k) => ({
        id: k.id,
        prefix: k.prefix,
        name: k.name,
        scopes: k.scopes,
        status: apiKeyStatus(k),
        createdAt: k.createdAt.toISOString(),
        createdBy: k.createdBy,
        expiresAt: k.expiresAt?.toISOString() ?? null,
        lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
      }));
      printList(rows, Boolean(values.json), {
        PREFIX: (r) => r.prefix,
        NAME: (r) => r.name,
        SCOPES: (r) => r.scopes.join(',') || '-',
        STATUS: (r) => r.status,
        CREATED: (r) => r.createdAt,
        EXPIRES: (r) => r.expiresAt ?? '-',
        'LAST USED': (r) => r.lastUsedAt ?? '-',
        ID: (r) => r.id,
      });
      return;
    }
    case 'revoke': {
      const { positionals } = commandArgs(rest, KEYS_USAGE);
      if (positionals.length !== 1) throw new UsageError('keys revoke takes one id or prefix', KEYS_USAGE);
      const { key, alreadyRevoked } = await withCredentials(config, (c) => c.keys.revoke(positionals[0], c.actor));
      process.stderr.write(`${alreadyRevoked ? 'Already revoked' : 'Revoked'}: API key ${key.prefix} ("${key.name}")\n`);
      return;
    }
    default:
      if (sub === '--help' || sub === '-h' || sub === 'help') throw new UsageError('help', KEYS_USAGE);
      throw new UsageError(sub ? `unknown keys command "${sub}"` : 'keys needs a command', KEYS_USAGE);
  }
}
