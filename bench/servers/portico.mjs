// Portico from the build (`npm run build` first), configured by the environment like
// `node dist/src/main.js`, plus one tool module handed to startPortico (as a deployment's own
// module would be): an `echo` tool like the peers', and BENCH_EXTRA_TOOLS more tools
// (`bench_tool_<n>`, each with its own small schema) for the tool-count scenario.
// BENCH_AUDIT=off detaches the audit log's listener from the tool invoker after boot, SIGUSR2
// detaches it and SIGWINCH attaches it again while running (there is no product switch for it;
// the harness's audit on/off scenario only). SIGTERM closes gracefully.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The app's own copies of Nest, zod and mcp-core: a second copy would not share their metadata.
const require = createRequire(join(ROOT, 'dist', 'src', 'main.js'));
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { z } = require('zod');
const { Tool, ToolProvider, ToolInvoker } = require('../libs/mcp-core/src/index.js');
const { startPortico } = require('./bootstrap.js');
const { loadConfig } = require('./config/app-config.js');
const { AuditService } = require('./audit/audit.service.js');

const echoInput = z.object({ text: z.string().describe('Text to send back') });

class BenchTools {
  echo({ text }) {
    return text;
  }
}
const tool = (name, options) =>
  Reflect.decorate([Tool({ name, annotations: { readOnlyHint: true, openWorldHint: false }, ...options })], BenchTools.prototype, name, Object.getOwnPropertyDescriptor(BenchTools.prototype, name));
tool('echo', { description: 'Sends the text back unchanged.', input: echoInput });
for (let i = 1; i <= Number(process.env.BENCH_EXTRA_TOOLS ?? 0); i++) {
  const name = `bench_tool_${i}`;
  BenchTools.prototype[name] = function ({ value }) {
    return `${name}: ${value}`;
  };
  tool(name, {
    description: `Benchmark filler tool number ${i}: formats a value and a count.`,
    input: z.object({ value: z.string().max(200).describe(`Value for tool ${i}`), count: z.number().int().min(0).max(i).default(0).describe('How many') }),
  });
}
Reflect.decorate([ToolProvider({ namespace: 'bench' })], BenchTools);
class BenchToolsModule {}
Reflect.decorate([Module({ providers: [BenchTools] })], BenchToolsModule);

const portico = await startPortico(loadConfig(), [BenchToolsModule]);
const invoker = portico.app.get(ToolInvoker);
const audit = portico.app.get(AuditService);
let auditOn = true;
const setAudit = (on) => {
  if (on === auditOn) return;
  if (on) invoker.addListener(audit);
  else invoker.removeListener(audit);
  auditOn = on;
};
setAudit(process.env.BENCH_AUDIT !== 'off');
// The audit scenario's switch, so that audit on and off alternate in one process: SIGUSR2 turns
// the listener off, SIGWINCH on again (SIGUSR1 is Node's inspector signal).
process.on('SIGUSR2', () => setAudit(false));
process.on('SIGWINCH', () => setAudit(true));

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    portico.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
