import pino from 'pino';
import { StaticTokenService } from '../auth/static-token.service';
import { startPortico } from '../bootstrap';
import { pinoOptions, stderr } from '../common/logger.module';
import type { AppConfig } from '../config/app-config';
import { exitGracefully } from './graceful-exit';

/** Prints the generated token once, with client configs ready to paste. Goes to stderr. */
function printFirstStartBanner(token: string, mcpUrl: string, tokenFile: string): void {
  const claudeCode = `claude mcp add --transport http portico ${mcpUrl} --header "Authorization: Bearer ${token}"`;
  const json = JSON.stringify(
    { mcpServers: { portico: { type: 'http', url: mcpUrl, headers: { Authorization: `Bearer ${token}` } } } },
    null,
    2,
  );
  process.stderr.write(
    [
      '',
      '================================================================================',
      ' Portico generated an access token on this first start (no AUTH_TOKENS set).',
      ` It is stored in ${tokenFile} (mode 0600) and is shown only this once.`,
      '',
      `   ${token}`,
      '',
      ' Claude Code:',
      `   ${claudeCode}`,
      '',
      ' Any client with an mcpServers config (Cursor, VS Code, Claude Desktop via mcp-remote):',
      json
        .split('\n')
        .map((l) => '   ' + l)
        .join('\n'),
      '================================================================================',
      '',
    ].join('\n'),
  );
}

/** `portico serve` (the default): runs both apps until SIGTERM/SIGINT. */
export async function serve(config: AppConfig): Promise<void> {
  const log = pino(pinoOptions(config.log.level), stderr());
  if (config.auth.disabled) {
    log.warn('AUTH_DISABLED=true: every request is served as "anonymous" with all scopes. Loopback only; never in production.');
  }
  // Signals are handled from the first moment: a SIGTERM during start-up waits for it, then stops cleanly.
  const starting = startPortico(config);
  exitGracefully(log, config.shutdownTimeoutMs, starting);
  const portico = await starting;
  const tokens = portico.app.get(StaticTokenService);
  if (tokens.generated) printFirstStartBanner(tokens.generated, portico.mcpUrl, tokens.tokenFile);
}
