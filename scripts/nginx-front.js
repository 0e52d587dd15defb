#!/usr/bin/env node
'use strict';
/**
 * Debian's nginx in front of a running Portico, with nginx/portico.conf as shipped, adapted for a
 * test: free ports on 127.0.0.1, a self-signed certificate made with openssl, files in a temp
 * folder, nginx as a non-daemon child process. Used by test/e2e/nginx.e2e-spec.ts and
 * scripts/nginx-conformance.sh.
 *
 *   node scripts/nginx-front.js --upstream 127.0.0.1:8080 [--variant NAME] [--prefix]
 *                               [--https-port N] [--http-port N]   (default: free ports)
 *                               [--plain-port N]
 *
 * Prints one JSON line on stdout once nginx answers ({ https, http, ca, pid, dir, nginxTest }),
 * then runs until SIGTERM or SIGINT, or until its stdin, if a pipe, closes (the parent went away), and stops
 * nginx (SIGQUIT, SIGKILL after 5 s) and removes its folder. Exits 1 if nginx stops by itself.
 *
 * Variants are deliberately broken set-ups, for `portico doctor` to find:
 *   buffering-on     proxy_buffering on and X-Accel-Buffering ignored (as a CDN would)
 *   slash-redirect   `location /mcp/` instead of `location = /mcp`: POST /mcp gets a 301
 *   well-known-auth  /.well-known/ behind HTTP Basic auth at nginx level
 *   short-timeouts   proxy_read_timeout 3s on the streams (nginx's default is 60 s)
 * --prefix serves Portico under /portico through nginx/portico-path-prefix.conf instead.
 * --plain-port adds a plain-HTTP listener to the TLS server block (same locations and headers):
 * the conformance suite's raw-socket scenarios speak plain HTTP whatever the URL's scheme, and its
 * DNS-rebinding scenario sends a Host no certificate names (scripts/nginx-conformance.sh).
 *
 * The adaptation is by exact text replacement, each of which must match as often as expected:
 * when nginx/portico.conf changes shape, this fails loudly instead of testing something else.
 */
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const NGINX = process.env.NGINX_BIN || '/usr/sbin/nginx';
const VARIANTS = ['default', 'buffering-on', 'slash-redirect', 'well-known-auth', 'short-timeouts'];

/** `text` with `from` replaced by `to`, which must occur exactly `times` times. */
function replaceExactly(text, from, to, times, what) {
  const count = text.split(from).length - 1;
  if (count !== times) throw new Error(`nginx test template: expected ${times} × ${JSON.stringify(from)} (${what}), found ${count}`);
  return text.split(from).join(to);
}

/** The two envsubst variables, as the nginx image's entrypoint or `envsubst` would fill them. */
function substitute(text, vars) {
  return text.replace(/\$\{(PORTICO_[A-Z_]+)\}/g, (m, name) => {
    if (!(name in vars)) throw new Error(`nginx test template: no value for ${m}`);
    return vars[name];
  });
}

/**
 * nginx/portico.conf for a test: `ports` { http, https, upstream }, files under `dir`.
 * Returns the adapted text (the http-level blocks and both servers).
 */
function adaptPorticoConf(source, { dir, httpPort, httpsPort, plainPort, upstream, variant = 'default' }) {
  let conf = substitute(source, { PORTICO_DOMAIN: '127.0.0.1', PORTICO_UPSTREAM: upstream });
  conf = replaceExactly(conf, '    listen 80;\n', `    listen 127.0.0.1:${httpPort};\n`, 1, 'http listener');
  conf = replaceExactly(conf, '    listen [::]:80;\n', '', 1, 'http listener, IPv6');
  conf = replaceExactly(conf, '    listen 443 ssl http2;', `    listen 127.0.0.1:${httpsPort} ssl http2;${plainPort ? `\n    listen 127.0.0.1:${plainPort};` : ''}`, 1, 'https listener');
  conf = replaceExactly(conf, '    listen [::]:443 ssl http2;\n', '', 1, 'https listener, IPv6');
  conf = replaceExactly(conf, '/etc/letsencrypt/live/127.0.0.1/', `${dir}/tls/`, 2, 'certificate paths');
  conf = replaceExactly(conf, 'root /var/www/certbot;', `root ${dir}/acme;`, 1, 'ACME webroot');
  conf = replaceExactly(conf, '/var/log/nginx/', `${dir}/logs/`, 2, 'log paths');
  conf = replaceExactly(conf, 'return 301 https://$host$request_uri;', `return 301 https://$host:${httpsPort}$request_uri;`, 1, 'https redirect');
  switch (variant) {
    case 'default':
      break;
    case 'buffering-on':
      conf = replaceExactly(conf, 'proxy_buffering off;', 'proxy_buffering on; proxy_ignore_headers X-Accel-Buffering;', 2, 'buffering');
      break;
    case 'slash-redirect':
      conf = replaceExactly(conf, '    location = /mcp {', '    location /mcp/ {', 1, '/mcp location');
      conf = replaceExactly(conf, 'location ~ ^/(mcp/|sse|messages)$ {', 'location ~ ^/(sse|messages)$ {', 1, 'stream locations');
      break;
    case 'well-known-auth':
      conf = replaceExactly(
        conf,
        '    location ^~ /.well-known/ {\n',
        `    location ^~ /.well-known/ {\n        auth_basic "Restricted";\n        auth_basic_user_file ${dir}/htpasswd;\n`,
        1,
        '.well-known location',
      );
      break;
    case 'short-timeouts':
      conf = replaceExactly(conf, 'proxy_read_timeout 3600s;', 'proxy_read_timeout 3s;', 2, 'stream read timeouts');
      break;
    default:
      throw new Error(`unknown variant ${variant}; one of ${VARIANTS.join(', ')}`);
  }
  return conf;
}

/**
 * The path-prefix set-up: the http-level blocks of nginx/portico.conf (upstream, rate-limit zones,
 * log format), and one TLS server that includes nginx/portico-path-prefix.conf, as an existing
 * site would.
 */
function prefixConf(source, snippet, { dir, httpsPort, upstream }) {
  const httpLevel = source.slice(0, source.indexOf('# Port 80:'));
  if (!httpLevel.includes('upstream portico')) throw new Error('nginx test template: no upstream block before "# Port 80:"');
  fs.writeFileSync(path.join(dir, 'portico-path-prefix.conf'), snippet);
  return `${substitute(httpLevel, { PORTICO_UPSTREAM: upstream })}
server {
    listen 127.0.0.1:${httpsPort} ssl http2;
    server_name 127.0.0.1;
    ssl_certificate     ${dir}/tls/fullchain.pem;
    ssl_certificate_key ${dir}/tls/privkey.pem;
    access_log ${dir}/logs/portico.access.log portico;
    error_log  ${dir}/logs/portico.error.log warn;
    location = / { return 200 "another site\\n"; }
    include ${dir}/portico-path-prefix.conf;
}
`;
}

/** The top-level nginx.conf around it: no daemon, every path in `dir`, Debian's mime types. */
function mainConf(dir, include) {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path ${dir}/tmp/client_body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    access_log ${dir}/logs/access.log;
    include ${include};
}
`;
}

/** A self-signed certificate for 127.0.0.1 and localhost (P-256), valid for 90 days. */
function makeCertificate(dir) {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', path.join(dir, 'tls', 'privkey.pem'), '-out', path.join(dir, 'tls', 'fullchain.pem')],
    { stdio: 'ignore' },
  );
  return path.join(dir, 'tls', 'fullchain.pem');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Writes the configuration into a fresh folder; returns its paths and ports. */
async function prepare({ upstream, variant = 'default', prefix = false, httpsPort: fixedHttps, httpPort: fixedHttp, plainPort }) {
  if (!fs.existsSync(NGINX)) throw new Error(`${NGINX} is missing: bash scripts/ensure-nginx.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-nginx-'));
  for (const sub of ['tls', 'acme/.well-known/acme-challenge', 'logs', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  // Workers run as an unprivileged user when the master is root: they must reach the temp folders.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'tmp'), 0o777);
  const ca = makeCertificate(dir);
  fs.writeFileSync(path.join(dir, 'htpasswd'), 'operator:{PLAIN}not-the-token\n');
  fs.writeFileSync(path.join(dir, 'acme/.well-known/acme-challenge/probe'), 'acme-probe\n');
  const httpPort = fixedHttp || (await freePort());
  const httpsPort = fixedHttps || (await freePort());
  const source = fs.readFileSync(path.join(ROOT, 'nginx', 'portico.conf'), 'utf8');
  const conf = prefix
    ? prefixConf(source, fs.readFileSync(path.join(ROOT, 'nginx', 'portico-path-prefix.conf'), 'utf8'), { dir, httpsPort, upstream })
    : adaptPorticoConf(source, { dir, httpPort, httpsPort, plainPort, upstream, variant });
  fs.writeFileSync(path.join(dir, 'portico.conf'), conf);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), mainConf(dir, path.join(dir, 'portico.conf')));
  return { dir, ca, httpPort, httpsPort, confPath: path.join(dir, 'nginx.conf') };
}

/** `nginx -t` on the configuration: its output (nginx writes it to stderr), or an error with it. */
function testConfig(confPath) {
  const run = spawnSync(NGINX, ['-t', '-c', confPath], { encoding: 'utf8' });
  const output = `${run.stdout || ''}${run.stderr || ''}`.trim();
  if (run.status !== 0) throw new Error(`nginx -t failed:\n${output || run.error}`);
  return output;
}

async function main(argv) {
  const args = { variant: 'default', prefix: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--upstream') args.upstream = argv[++i];
    else if (argv[i] === '--variant') args.variant = argv[++i];
    else if (argv[i] === '--prefix') args.prefix = true;
    else if (argv[i] === '--https-port') args.httpsPort = Number(argv[++i]);
    else if (argv[i] === '--http-port') args.httpPort = Number(argv[++i]);
    else if (argv[i] === '--plain-port') args.plainPort = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.upstream) throw new Error('usage: nginx-front.js --upstream HOST:PORT [--variant NAME] [--prefix]');
  if (!VARIANTS.includes(args.variant)) throw new Error(`unknown variant ${args.variant}; one of ${VARIANTS.join(', ')}`);

  const setup = await prepare(args);
  let child;
  let stopping = false;
  const cleanup = () => fs.rmSync(setup.dir, { recursive: true, force: true });
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT'); // graceful: workers finish, then the master exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
    process.exit(code);
  };
  let nginxTest = '';
  try {
    nginxTest = testConfig(setup.confPath);
    child = spawn(NGINX, ['-c', setup.confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`nginx-front: nginx exited by itself (${code ?? signal})\n${stderr}`);
      const log = path.join(setup.dir, 'logs', 'error.log');
      if (fs.existsSync(log)) process.stderr.write(fs.readFileSync(log, 'utf8'));
      cleanup();
      process.exit(1);
    });
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(setup.httpsPort))) {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${setup.httpsPort} within 10 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    process.stderr.write(`nginx-front: ${e.message}\n`);
    await stop(1);
    return;
  }
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  // A pipe on stdin (a test runner's): its end means the parent is gone. A shell's background job
  // has /dev/null there instead, and is stopped by its PID.
  if (fs.fstatSync(0).isFIFO()) {
    process.stdin.on('end', () => stop(0));
    process.stdin.on('error', () => stop(0));
    process.stdin.resume();
  }
  process.stdout.write(
    `${JSON.stringify({
      https: `https://127.0.0.1:${setup.httpsPort}`,
      http: `http://127.0.0.1:${setup.httpPort}`,
      ...(args.plainPort ? { plain: `http://127.0.0.1:${args.plainPort}` } : {}),
      ca: setup.ca,
      pid: child.pid,
      dir: setup.dir,
      variant: args.prefix ? 'prefix' : args.variant,
      nginxTest,
    })}\n`,
  );
}

module.exports = { adaptPorticoConf, prefixConf, mainConf, replaceExactly, testConfig, VARIANTS };

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`nginx-front: ${e.message}\n`);
    process.exit(1);
  });
}
