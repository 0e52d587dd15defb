#!/usr/bin/env node
import 'reflect-metadata';
import { CredentialsError } from '../auth/verification';
import { type AppConfig, loadConfig } from '../config/app-config';
import { ConfigError } from '../config/config.error';
import { UsageError } from './cli-args';

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

type Command = (config: AppConfig, args: string[]) => Promise<void>;
/**
 * Each command's module is loaded when that command runs: `serve` does not
 * load (nor keep in memory) what `doctor`, `keys` or `audit` need.
 */
const commands: Record<string, () => Command> = {
  serve: () => (require('./serve.command') as typeof import('./serve.command')).serve,
  stdio: () => (require('./stdio.command') as typeof import('./stdio.command')).stdio,
  migrate: () => (require('./migrate.command') as typeof import('./migrate.command')).migrate,
  audit: () => (require('./audit.command') as typeof import('./audit.command')).audit,
  oauth: () => (require('./oauth.command') as typeof import('./oauth.command')).oauth,
  keys: () => (require('./keys.command') as typeof import('./keys.command')).keys,
  users: () => (require('./users.command') as typeof import('./users.command')).users,
};
/** Commands that read no configuration: they run anywhere, whatever the environment holds. */
const standalone: Record<string, () => (args: string[]) => Promise<void>> = {
  doctor: () => (require('./doctor.command') as typeof import('./doctor.command')).doctor,
};

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
    if (plain) await plain()(argv.slice(1));
    else await command()(loadConfig(), argv.slice(1));
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
