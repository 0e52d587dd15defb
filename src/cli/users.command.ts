import { hashPassword } from '../auth/password-hash';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/users.service';
import { parseScopes } from '../auth/verification';
import type { AppConfig } from '../config/app-config';
import { commandArgs, UsageError } from './cli-args';
import { withCredentials } from './credentials-context';
import { readPassword } from './read-password';
import { printList } from './table';

export const USERS_USAGE = `Usage:
  portico users add <name> [--scopes a,b | --scopes '*']
  portico users passwd <name>
  portico users disable <name>
  portico users list [--json]
  portico users hash

Passwords are read from the terminal (hidden, asked twice) or from the first
line of stdin; never from the command line. Without --scopes the user sees only
tools that require no scope; '*' grants all. hash prints a password hash for
AUTH_BASIC_USERS (name:hash) and touches no database.
`;

/** The one positional argument a command takes: the user name. */
function nameOf(sub: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`users ${sub} takes one user name`, USERS_USAGE);
  return positionals[0];
}

/** Reads a new password and checks its length before any database is opened. */
async function newPassword(): Promise<string> {
  const password = await readPassword({ confirm: true });
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new Error(`the password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

/** `portico users add|passwd|disable|list|hash`. */
export async function users(config: AppConfig, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add': {
      const { values, positionals } = commandArgs(rest, USERS_USAGE, { scopes: { type: 'string' } });
      const username = nameOf(sub, positionals);
      const scopes = parseScopes(values.scopes as string | undefined);
      const password = await newPassword();
      const user = await withCredentials(config, (c) => c.users.add({ username, password, scopes }, c.actor));
      process.stderr.write(`Added user ${user.username} (scopes: ${user.scopes.join(',') || 'none'})\n`);
      return;
    }
    case 'passwd': {
      const username = nameOf(sub, commandArgs(rest, USERS_USAGE).positionals);
      const password = await newPassword();
      await withCredentials(config, (c) => c.users.passwd(username, password, c.actor));
      process.stderr.write(`Changed the password of ${username}\n`);
      return;
    }
    case 'disable': {
      const username = nameOf(sub, commandArgs(rest, USERS_USAGE).positionals);
      const { alreadyDisabled } = await withCredentials(config, (c) => c.users.disable(username, c.actor));
      process.stderr.write(`${alreadyDisabled ? 'Already disabled' : 'Disabled'}: ${username}\n`);
      return;
    }
    case 'list': {
      const { values, positionals } = commandArgs(rest, USERS_USAGE, { json: { type: 'boolean' } });
      if (positionals.length) throw new UsageError('users list takes no arguments', USERS_USAGE);
      const list = await withCredentials(config, (c) => c.users.list());
      const rows = list.map((u) => ({
        username: u.username,
        source: u.source,
        scopes: u.scopes,
        status: u.disabledAt ? 'disabled' : 'active',
        createdAt: u.source === 'env' ? null : u.createdAt.toISOString(),
        updatedAt: u.source === 'env' ? null : u.updatedAt.toISOString(),
      }));
      printList(rows, Boolean(values.json), {
        NAME: (r) => r.username,
        SOURCE: (r) => r.source,
        SCOPES: (r) => r.scopes.join(',') || '-',
        STATUS: (r) => r.status,
        CREATED: (r) => r.createdAt ?? '-',
        UPDATED: (r) => r.updatedAt ?? '-',
      });
      return;
    }
    case 'hash': {
      if (commandArgs(rest, USERS_USAGE).positionals.length) throw new UsageError('users hash takes no arguments: it reads the password', USERS_USAGE);
      process.stdout.write(`${await hashPassword(await newPassword())}\n`);
      return;
    }
    default:
      if (sub === '--help' || sub === '-h' || sub === 'help') throw new UsageError('help', USERS_USAGE);
      throw new UsageError(sub ? `unknown users command "${sub}"` : 'users needs a command', USERS_USAGE);
  }
}
