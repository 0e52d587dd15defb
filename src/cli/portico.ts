#!/usr/bin/env node
import 'reflect-metadata';
import { loadConfig } from '../config/app-config';
import { ConfigError } from '../config/config.error';
import { audit } from './audit.command';
import { migrate } from './migrate.command';
import { oauth } from './oauth.command';
import { serve } from './serve.command';
import { stdio } from './stdio.command';

const USAGE = `Usage: portico [command]

Commands:
  serve     run the MCP server and the status server (default)
  stdio     serve the tools over stdin/stdout to one local client (no HTTP, no auth)
  migrate   apply pending database migrations
  audit     verify the audit log's hash chains, or export events (portico audit --help)
  oauth     the built-in authorization server: list or revoke consents, rotate keys (portico oauth --help)

Configuration comes from the environment; see .env.example.
`;

const commands: Record<string, (config: ReturnType<typeof loadConfig>, args: string[]) => Promise<void>> = { serve, stdio, migrate, audit, oauth };

/** Entry point of `portico` and of `node dist/src/main.js`. */
export async function runCli(argv: string[]): Promise<void> {
  const name = argv[0] ?? 'serve';
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stderr.write(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    await command(loadConfig(), argv.slice(1));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`portico: ${e.message}\nSee .env.example for every variable and its default.\n`);
    } else {
      process.stderr.write(`portico: ${name} failed: ${(e as Error).message ?? e}\n`);
    }
    process.exit(1);
  }
}

if (require.main === module) void runCli(process.argv.slice(2));
