#!/usr/bin/env node
import 'reflect-metadata';
import { CredentialsError } from '../auth/verification';
import { type AppConfig, loadConfig } from '../config/app-config';
import { ConfigError } from '../config/config.error';
import { audit } from './audit.command';
import { doctor } from './doctor.command';
import { UsageError } from './cli-args';
import { keys } from './keys.command';
import { migrate } from './migrate.command';
import { oauth } from './oauth.command';
import { serve } from './serve.command';
import { stdio } from './stdio.command';
import { users } from './users.command';

const USAGE = `Usage: portico [command]

Commands:
  serve     run the MCP server and the status server (default)
  stdio     serve the tools over stdin/stdout to one local client (no HTTP, no auth)
  migrate   apply pending database migrations
  audit     verify the audit log's hash chains, or export events (portico audit --help)
  oauth     the built-in authorization server: list or revoke consents, rotate keys (portico oauth --help)
  keys      API keys: keys create --name N [--scopes a,b] [--expires 30d] | keys list | keys revoke <id|prefix>
  users     HTTP Basic users: users add <name> [--scopes a,b] | users passwd <name> | users disable <name>
            | users list | users hash (a hash for AUTH_BASIC_USERS)
  doctor    check a deployment the way claude.ai uses it: doctor <url> [--token T] (portico doctor --help)

keys and users work on the app's database (DATABASE_URL, else the embedded one in
DATA_DIR, which a running server holds: stop it first, or use PostgreSQL).
Run "portico keys --help" or "portico users --help" for details.
Configuration comes from the environment; see .env.example.
`;

const commands: Record<string, (config: AppConfig, args: string[]) => Promise<void>> = { serve, stdio, migrate, audit, oauth, keys, users };
/** Commands that read no configuration: they run anywhere, whatever the environment holds. */
const standalone: Record<string, (args: string[]) => Promise<void>> = { doctor };

/** Entry point of `portico` and of `node dist/src/main.js`. */
export async function runCli(argv: string[]): Promise<void> {
  const name = argv[0] ?? 'serve';
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stderr.write(USAGE);
    return;
  }
  const command = commands[name];
  const plain = standalone[name];
  if (!command && !plain) {
    process.stderr.write(`Unknown command "${name}".\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    if (plain) await plain(argv.slice(1));
    else await command(loadConfig(), argv.slice(1));
  } catch (e) {
    if (e instanceof UsageError) {
      const help = e.message === 'help';
      process.stderr.write(help ? e.usage : `portico ${name}: ${e.message}\n\n${e.usage}`);
      process.exitCode = help ? 0 : 2;
      return;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`portico: ${e.message}\nSee .env.example for every variable and its default.\n`);
    } else if (e instanceof CredentialsError) {
      process.stderr.write(`portico ${name}: ${e.message}\n`);
    } else {
      process.stderr.write(`portico: ${name} failed: ${(e as Error).message ?? e}\n`);
    }
    process.exit(1);
  }
}

if (require.main === module) void runCli(process.argv.slice(2));
