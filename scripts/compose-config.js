#!/usr/bin/env node
'use strict';
/**
 * `docker compose config` without Docker: what CI can check of the compose files on a machine
 * whose docker client has no compose plugin and no engine (scripts/deploy-lint.sh runs it, and
 * also `docker compose config` itself where that works).
 *
 *   node scripts/compose-config.js --project-dir docker [--env-file docker/.env] \
 *        -f compose.yml [-f compose.openproject.yml …] [--schema compose.schema.json] [--quiet]
 *
 * Like compose: variables from the shell win over the env file; `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, `$VAR` and
 * `$$` are interpolated (nested defaults too); files are merged in order (mappings deeply,
 * sequences appended, command/entrypoint/healthcheck test replaced); the result is validated
 * against the Compose Specification's JSON schema; then the references are resolved: depends_on
 * targets and their conditions (service_healthy needs a healthcheck, in compose or in the
 * Dockerfile's HEALTHCHECK), networks, named volumes, secrets and their files, env_files,
 * bind-mount sources, build contexts and Dockerfiles, duplicate published ports.
 * Prints the resolved model as JSON (unless --quiet); exits 1 listing every problem.
 *
 * Needs the `yaml` package and a compose schema: scripts/deploy-lint.sh installs dclint (which
 * bundles both) into .conformance/deploy-lint and passes their paths.
 */
const fs = require('node:fs');
const path = require('node:path');

function parseArgs(argv) {
  const args = { files: [], quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-f' || a === '--file') args.files.push(argv[++i]);
    else if (a === '--project-dir') args.projectDir = argv[++i];
    else if (a === '--env-file') args.envFile = argv[++i];
    else if (a === '--schema') args.schema = argv[++i];
    else if (a === '--yaml') args.yaml = argv[++i];
    else if (a === '--quiet' || a === '-q') args.quiet = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.projectDir) throw new Error('--project-dir is required');
  if (!args.files.length) args.files.push('compose.yml');
  return args;
}

/** A dotenv file as compose reads it: KEY=value, quotes stripped, # comments. */
function readEnvFile(file) {
  const out = {};
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    if (/^'.*'$/.test(v) || /^".*"$/.test(v)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]] = v;
  }
  return out;
}

/** Compose's interpolation of one string; problems (`:?` errors, bad syntax) go to `errors`. */
function interpolate(text, env, where, errors) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      // Find the matching brace (defaults may nest ${…}).
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}') depth--;
        j++;
      }
      if (depth) {
        errors.push(`${where}: unterminated \${ in ${JSON.stringify(text)}`);
        return out;
      }
      const body = text.slice(i + 2, j - 1);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
      if (!m) {
        errors.push(`${where}: invalid interpolation \${${body}}`);
        i = j;
        continue;
      }
      const [, name, op, arg = ''] = m;
      const value = env[name];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      const sub = () => interpolate(arg, env, where, errors);
      switch (op) {
        case undefined:
          out += set ? value : '';
          break;
        case ':-':
          out += nonEmpty ? value : sub();
          break;
        case '-':
          out += set ? value : sub();
          break;
        case ':?':
          if (!nonEmpty) errors.push(`${where}: required variable ${name} is missing a value: ${sub()}`);
          out += value ?? '';
          break;
        case '?':
          if (!set) errors.push(`${where}: required variable ${name} is missing a value: ${sub()}`);
          out += value ?? '';
          break;
        case ':+':
          out += nonEmpty ? sub() : '';
          break;
        case '+':
          out += set ? sub() : '';
          break;
      }
      i = j;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (m) {
      out += env[m[0]] ?? '';
      i += 1 + m[0].length;
    } else {
      out += '$';
      i++;
    }
  }
  return out;
}

function interpolateTree(node, env, where, errors) {
  if (typeof node === 'string') return interpolate(node, env, where, errors);
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, env, `${where}[${i}]`, errors));
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, env, `${where}.${k}`, errors);
    return out;
  }
  return node;
}

/** environment / depends_on / networks given as lists, as mappings (compose's canonical form). */
function normalizeService(service) {
  const s = { ...service };
  if (Array.isArray(s.environment)) {
    s.environment = Object.fromEntries(s.environment.map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, null])));
  }
  if (Array.isArray(s.depends_on)) s.depends_on = Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started', required: true }]));
  if (Array.isArray(s.networks)) s.networks = Object.fromEntries(s.networks.map((n) => [n, null]));
  if (typeof s.env_file === 'string') s.env_file = [s.env_file];
  if (Array.isArray(s.env_file)) s.env_file = s.env_file.map((e) => (typeof e === 'string' ? { path: e, required: true } : { required: true, ...e }));
  return s;
}

const REPLACED = new Set(['command', 'entrypoint', 'test']);

/** Compose's merge of an override into a base (the subset these files use). */
function merge(base, override, key = '') {
  if (Array.isArray(base) && Array.isArray(override)) {
    if (REPLACED.has(key)) return override;
    const seen = new Set(base.map((v) => JSON.stringify(v)));
    return [...base, ...override.filter((v) => !seen.has(JSON.stringify(v)))];
  }
  if (base && override && typeof base === 'object' && typeof override === 'object' && !Array.isArray(base) && !Array.isArray(override)) {
    const out = { ...base };
    for (const [k, v] of Object.entries(override)) out[k] = k in out ? merge(out[k], v, k) : v;
    return out;
  }
  return override;
}

/** The published host ports of a `ports` entry (short or long syntax). */
function publishedPorts(entry) {
  if (typeof entry === 'object') return entry.published ? [`${entry.host_ip ?? ''}:${entry.published}/${entry.protocol ?? 'tcp'}`] : [];
  const text = String(entry);
  const [spec, proto = 'tcp'] = text.split('/');
  const parts = spec.split(':');
  if (parts.length < 2) return [];
  const host = parts.length === 3 ? parts[1] : parts[0];
  const ip = parts.length === 3 ? parts[0] : '';
  return [`${ip}:${host}/${proto}`];
}

function check(model, projectDir, errors) {
  const services = model.services ?? {};
  const declared = (kind) => new Set(Object.keys(model[kind] ?? {}));
  const networks = declared('networks');
  const volumes = declared('volumes');
  const secrets = declared('secrets');
  const published = new Map();
  const rel = (p) => path.resolve(projectDir, p);

  for (const [name, s] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!s.image && !s.build) errors.push(`${at}: neither image nor build`);
    if (s.build) {
      const context = rel(typeof s.build === 'string' ? s.build : s.build.context ?? '.');
      if (!fs.existsSync(context)) errors.push(`${at}.build.context: ${context} does not exist`);
      const dockerfile = path.resolve(context, (typeof s.build === 'object' && s.build.dockerfile) || 'Dockerfile');
      if (!fs.existsSync(dockerfile)) errors.push(`${at}.build.dockerfile: ${dockerfile} does not exist`);
      else s['x-dockerfile-healthcheck'] = /^\s*HEALTHCHECK\s+(?!NONE)/im.test(fs.readFileSync(dockerfile, 'utf8'));
    }
    for (const [dep, spec] of Object.entries(s.depends_on ?? {})) {
      if (!services[dep]) errors.push(`${at}.depends_on: no service ${dep}`);
    }
    for (const net of Object.keys(s.networks ?? {})) if (!networks.has(net)) errors.push(`${at}.networks: network ${net} is not declared`);
    if (!s.networks && !s.network_mode && networks.size && !networks.has('default')) {
      // The implicit default network exists; nothing to check.
    }
    for (const v of s.volumes ?? []) {
      const spec = typeof v === 'string' ? { source: v.split(':')[0], type: v.includes(':') ? undefined : 'volume' } : v;
      const source = spec.source ?? '';
      if (!source) continue;
      if (/^[.~/]/.test(source)) {
        if (!fs.existsSync(rel(source))) errors.push(`${at}.volumes: bind source ${rel(source)} does not exist`);
      } else if (!volumes.has(source)) errors.push(`${at}.volumes: named volume ${source} is not declared`);
    }
    for (const sec of s.secrets ?? []) {
      const secName = typeof sec === 'string' ? sec : sec.source;
      if (!secrets.has(secName)) errors.push(`${at}.secrets: secret ${secName} is not declared`);
    }
    for (const e of s.env_file ?? []) {
      if (e.required !== false && !fs.existsSync(rel(e.path))) errors.push(`${at}.env_file: ${rel(e.path)} does not exist (required)`);
    }
    for (const p of s.ports ?? []) {
      for (const key of publishedPorts(p)) {
        const [, port] = /:([^:/]*)\//.exec(key) ?? [];
        if (port && !/^\d+(-\d+)?$/.test(port)) errors.push(`${at}.ports: published port "${port}" is not a number (${JSON.stringify(p)})`);
        const owner = published.get(key);
        if (owner) errors.push(`${at}.ports: ${key} is published by ${owner} too`);
        published.set(key, name);
      }
    }
  }
  // Conditions, once every service's Dockerfile is known.
  for (const [name, s] of Object.entries(services)) {
    for (const [dep, spec] of Object.entries(s.depends_on ?? {})) {
      const target = services[dep];
      if (!target || !spec) continue;
      if (spec.condition === 'service_healthy' && !target.healthcheck?.test && !target['x-dockerfile-healthcheck'] && !isBuiltBy(target, services)) {
        errors.push(`services.${name}.depends_on.${dep}: service_healthy, but ${dep} has no healthcheck`);
      }
      if (spec.condition === 'service_completed_successfully' && /always|unless-stopped/.test(target.restart ?? '')) {
        errors.push(`services.${name}.depends_on.${dep}: service_completed_successfully, but ${dep} restarts (${target.restart})`);
      }
    }
  }
  for (const [name, sec] of Object.entries(model.secrets ?? {})) {
    if (sec.file && !fs.existsSync(rel(sec.file))) errors.push(`secrets.${name}.file: ${rel(sec.file)} does not exist`);
  }
  for (const [name, net] of Object.entries(model.networks ?? {})) {
    if (net && net.external && !net.name) errors.push(`networks.${name}: external without a name`);
  }
  for (const s of Object.values(services)) delete s['x-dockerfile-healthcheck'];
}

/** A service running an image another service builds inherits that Dockerfile's HEALTHCHECK. */
function isBuiltBy(target, services) {
  return Object.values(services).some((s) => s.build && s.image && s.image === target.image && s['x-dockerfile-healthcheck']);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const YAML = require(args.yaml || 'yaml');
  const projectDir = path.resolve(args.projectDir);
  const envFile = args.envFile ? path.resolve(args.envFile) : path.join(projectDir, '.env');
  const fileEnv = fs.existsSync(envFile) ? readEnvFile(envFile) : {};
  const env = { ...fileEnv, ...process.env };
  const errors = [];

  let model = {};
  for (const f of args.files) {
    const file = path.resolve(projectDir, f);
    const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { merge: true });
    if (doc.errors.length) {
      for (const e of doc.errors) errors.push(`${f}: ${e.message}`);
      continue;
    }
    const raw = interpolateTree(doc.toJS({ maxAliasCount: 100 }) ?? {}, env, f, errors);
    if (raw.services) for (const [k, v] of Object.entries(raw.services)) raw.services[k] = normalizeService(v ?? {});
    model = merge(model, raw);
  }
  if (!model.name) model.name = env.COMPOSE_PROJECT_NAME || path.basename(projectDir);

  if (args.schema) {
    const Ajv = require('ajv');
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    const schema = JSON.parse(fs.readFileSync(args.schema, 'utf8'));
    delete schema.$schema; // draft-07, which Ajv speaks by default (the file names it without the trailing #)
    const validate = ajv.compile(schema);
    if (!validate(model)) for (const e of validate.errors) errors.push(`schema: ${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`);
  }
  check(model, projectDir, errors);

  if (errors.length) {
    for (const e of [...new Set(errors)]) process.stderr.write(`compose-config: ${e}\n`);
    process.stderr.write(`compose-config: ${args.files.join(' + ')}: ${errors.length} problem(s)\n`);
    process.exit(1);
  }
  if (!args.quiet) process.stdout.write(`${JSON.stringify(model, null, 2)}\n`);
  process.stderr.write(`compose-config: ${args.files.join(' + ')}: valid (${Object.keys(model.services ?? {}).length} services)\n`);
}

module.exports = { interpolate, merge, readEnvFile, publishedPorts };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`compose-config: ${e.message}\n`);
    process.exit(1);
  }
}
