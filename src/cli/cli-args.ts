import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line the command cannot run: its message and the command's usage go to stderr, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A subcommand's options (strict: an unknown option is a {@link UsageError}) and positional arguments. */
export function commandArgs(argv: string[], usage: string, options: ParseArgsConfig['options'] = {}) {
  if (argv.includes('--help') || argv.includes('-h')) throw new UsageError('help', usage);
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
}
