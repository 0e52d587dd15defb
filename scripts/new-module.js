#!/usr/bin/env node
// Writes a new tool module: src/tools/<name>/ with a module, a provider with one
// example tool and its unit test, an e2e test in test/e2e/, and one export line in
// src/tools/tool-modules.ts (its whole registration). Nothing else is touched.
//
//   npm run new:module -- <name> [--root <project folder>]
//
// <name>: lower case letters, digits, and - or _ between words (inventory,
// stock-levels). Files and folders take the kebab-case form, the tool namespace,
// tool names and scopes the snake_case form, classes the PascalCase form.
'use strict';
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');
const templates = require('./new-module/templates');

const USAGE = 'usage: npm run new:module -- <name> [--root <project folder>]   e.g. npm run new:module -- stock-levels';

function fail(message) {
  process.stderr.write(`new:module: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { root: resolve(__dirname, '..'), name: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--root') options.root = resolve(argv[++i] ?? fail('--root needs a folder'));
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}\n${USAGE}`);
    else if (options.name) fail(`one name only\n${USAGE}`);
    else options.name = arg;
  }
  if (!options.name) fail(USAGE);
  return options;
}

/** The forms of a module name; exits on a name that cannot be a namespace (snake_case, ≤ 32 characters). */
function names(raw) {
  if (!/^[a-z][a-z0-9]*([-_][a-z0-9]+)*$/.test(raw)) {
    fail(`"${raw}" is not a module name: use lower case letters and digits, words joined by - or _, starting with a letter`);
  }
  const words = raw.split(/[-_]/);
  const snake = words.join('_');
  if (snake.length > 32) fail(`"${raw}" is too long: a tool namespace has at most 32 characters`);
  // The example tool is <snake>_hello: within the 64-character tool-name limit for every allowed name.
  return {
    kebab: words.join('-'),
    snake,
    pascal: words.map((w) => w[0].toUpperCase() + w.slice(1)).join(''),
    title: words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' '),
  };
}

/** Adds the module's export line to src/tools/tool-modules.ts, keeping the export lines in order. */
function register(file, line) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.includes(line)) fail(`${file} already exports it`);
  const exports = lines.map((l, i) => [l, i]).filter(([l]) => l.startsWith('export {'));
  const after = exports.filter(([l]) => l < line).pop();
  const at = after ? after[1] + 1 : exports.length ? exports[0][1] : lines.length - (text.endsWith('\n') ? 1 : 0);
  lines.splice(at, 0, line);
  writeFileSync(file, lines.join('\n'));
}

function main() {
  const { root, name } = parseArgs(process.argv.slice(2));
  const n = names(name);
  const registry = join(root, 'src', 'tools', 'tool-modules.ts');
  if (!existsSync(registry)) fail(`${registry} not found: is ${root} a Portico checkout?`);
  const folder = join(root, 'src', 'tools', n.kebab);
  const e2e = join(root, 'test', 'e2e', `${n.kebab}.e2e-spec.ts`);
  if (existsSync(folder)) fail(`${relative(root, folder)} already exists`);
  if (existsSync(e2e)) fail(`${relative(root, e2e)} already exists`);
  const registryText = readFileSync(registry, 'utf8');
  if (new RegExp(`\\b${n.pascal}Module\\b`).test(registryText)) fail(`a module named ${n.pascal}Module is already registered`);

  const files = [
    [join(folder, `${n.kebab}.module.ts`), templates.module(n)],
    [join(folder, `${n.kebab}.tools.ts`), templates.tools(n)],
    [join(folder, `${n.kebab}.tools.spec.ts`), templates.unitTest(n)],
    [e2e, templates.e2eTest(n)],
  ];
  mkdirSync(folder, { recursive: true });
  for (const [file, content] of files) writeFileSync(file, content, { flag: 'wx' });
  register(registry, `export { ${n.pascal}Module } from './${n.kebab}/${n.kebab}.module';`);

  const shown = files.map(([file]) => `  ${relative(root, file)}`).join('\n');
  process.stdout.write(
    `Created the ${n.snake} tool module:\n${shown}\nRegistered it in src/tools/tool-modules.ts (one export line).\n\n` +
      `Its example tool is ${n.snake}_hello (scope ${n.snake}:read). Next: replace it with your tools, then\n` +
      `  npx tsc -p tsconfig.json --noEmit\n` +
      `  node --experimental-vm-modules node_modules/jest/bin/jest.js src/tools/${n.kebab} test/e2e/${n.kebab}.e2e-spec.ts\n` +
      `See docs/extending.md.\n`,
  );
}

main();
