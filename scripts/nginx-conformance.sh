#!/usr/bin/env bash
# The official MCP conformance suites through nginx: Debian's nginx with nginx/portico.conf
# (adapted by scripts/nginx-front.js: free ports, a self-signed certificate, temp paths) in front
# of a Portico with the conformance fixtures, then scripts/conformance.sh with CONFORMANCE_URL
# set to nginx, so both protocol eras (and 0.1.16 --suite all) cross the proxy: `location = /mcp`,
# unbuffered SSE, the session, resumption and Mcp-Method/Mcp-Name/Mcp-Param headers,
# DNS-rebinding refusals (the suite's evil Host reaches Portico through nginx, refused there).
#
# The suites run against a plain-HTTP listener added to the TLS server block (same locations,
# same headers; --plain-port): their raw-socket header scenarios speak plain HTTP whatever the
# URL's scheme ("400 The plain HTTP request was sent to HTTPS port"), and the DNS-rebinding
# scenario's Host (evil.example.com) fails TLS name checks before it reaches nginx. TLS itself
# is covered by test/e2e/nginx.e2e-spec.ts (portico doctor through https).
#
#   bash scripts/nginx-conformance.sh        (.ci/run, after scripts/ensure-nginx.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '[nginx-conformance] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ -x /usr/sbin/nginx ]] || die "/usr/sbin/nginx is missing: bash scripts/ensure-nginx.sh"
[[ -f dist/src/main.js ]] || npm run build >&2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-nginx-conformance.XXXXXX")
PID=
FRONT=
cleanup() {
  local rc=$?
  [[ -n "$FRONT" ]] && kill -TERM "$FRONT" 2>/dev/null && wait "$FRONT" 2>/dev/null
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  if ((rc != 0)); then
    log "Portico's log tail:"
    tail -n 40 "$WORK/server.log" >&2 || true
    log "nginx-front's stderr:"
    cat "$WORK/front.err" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

read -r PORT STATUS_PORT HTTPS_PORT HTTP_PORT PLAIN_PORT < <(node -e '
  const net = require("node:net");
  const ports = [];
  const next = () => { const s = net.createServer().listen(0, "127.0.0.1", () => { ports.push(s.address().port); s.close(); ports.length < 5 ? next() : console.log(ports.join(" ")); }); };
  next();')
PUBLIC="http://127.0.0.1:$PLAIN_PORT"

log "starting Portico (conformance fixtures, auth off, behind nginx: TRUST_PROXY=1, PUBLIC_BASE_URL=$PUBLIC)"
env -u DATABASE_URL -u AUTH_TOKENS -u AUTH_TOKENS_FILE -u ALLOWED_HOSTS -u ALLOWED_ORIGINS -u OAUTH_SERVER \
  HOST=127.0.0.1 PORT="$PORT" STATUS_HOST=127.0.0.1 STATUS_PORT="$STATUS_PORT" DATA_DIR="$WORK/data" \
  AUTH_DISABLED=true PORTICO_CONFORMANCE_FIXTURES=true TRUST_PROXY=1 PUBLIC_BASE_URL="$PUBLIC" LOG_LEVEL=warn \
  node dist/src/main.js >"$WORK/server.log" 2>&1 &
PID=$!

node scripts/nginx-front.js --upstream "127.0.0.1:$PORT" --https-port "$HTTPS_PORT" --http-port "$HTTP_PORT" --plain-port "$PLAIN_PORT" >"$WORK/front.json" 2>"$WORK/front.err" &
FRONT=$!
for _ in $(seq 1 120); do [[ -s "$WORK/front.json" ]] && break; kill -0 "$FRONT" 2>/dev/null || die "nginx-front exited"; sleep 0.25; done
[[ -s "$WORK/front.json" ]] || die "nginx did not start"
CA=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).ca' "$WORK/front.json")
node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).nginxTest' "$WORK/front.json" >&2

for _ in $(seq 1 120); do curl -sf "$PUBLIC/health" >/dev/null && break; sleep 0.25; done
curl -sf "$PUBLIC/health" >/dev/null || die "Portico does not answer through nginx at $PUBLIC/health"
curl -sf --cacert "$CA" "https://127.0.0.1:$HTTPS_PORT/health" >/dev/null || die "Portico does not answer through nginx with TLS"
log "nginx (pid $(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).pid' "$WORK/front.json")) serves $PUBLIC/mcp in front of 127.0.0.1:$PORT"

CONFORMANCE_URL="$PUBLIC/mcp" bash scripts/conformance.sh
