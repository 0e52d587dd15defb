#!/usr/bin/env bash
# The README's first command, as a newcomer runs it: `npm start` on embedded defaults
# (fresh data directory, free ports), then the printed token calls a tool over /mcp,
# then SIGTERM must stop it cleanly. Used by .ci/run after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(mktemp -d)
LOG="$DATA/stderr.log"
cleanup() { [ -n "${PID:-}" ] && kill -9 "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

env -u DATABASE_URL -u AUTH_TOKENS -u AUTH_TOKENS_FILE DATA_DIR="$DATA/data" PORT=0 STATUS_PORT=0 \
  setsid npm start --silent 2>"$LOG" >"$DATA/stdout.log" &
PID=$!

for _ in $(seq 1 240); do grep -q 'claude mcp add' "$LOG" 2>/dev/null && break; sleep 0.5; done
grep -q 'claude mcp add' "$LOG" || { tail -40 "$LOG" >&2; echo "smoke: no start banner" >&2; exit 1; }
TOKEN=$(grep -oE '^ +ptc_[A-Za-z0-9_-]{43}$' "$LOG" | tr -d ' ' | head -n1)
URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/mcp' "$LOG" | head -n1)
[ -n "$TOKEN" ] && [ -n "$URL" ] || { echo "smoke: token or URL missing from the banner" >&2; exit 1; }
[ "$(stat -c %a "$DATA/data/auth-token")" = 600 ] || { echo "smoke: auth-token is not mode 0600" >&2; exit 1; }

REPLY=$(curl -sS --fail-with-body "$URL" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
  -H 'Mcp-Method: tools/call' -H 'Mcp-Name: get_current_time' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_current_time","arguments":{"timezone":"Europe/Berlin"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}')
echo "$REPLY" | grep -q '"timezone":"Europe/Berlin"' || { echo "smoke: unexpected reply: $REPLY" >&2; exit 1; }
[ ! -s "$DATA/stdout.log" ] || { echo "smoke: something was written to stdout" >&2; exit 1; }

# SIGTERM to the server process itself, as an orchestrator would (npm only relays it).
NODE_PID=$(pgrep -s "$PID" -f '^node dist/src/main.js' | head -n1)
[ -n "$NODE_PID" ] || { echo "smoke: server process not found" >&2; exit 1; }
kill -TERM "$NODE_PID"
for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then echo "smoke: still running 10 s after SIGTERM" >&2; exit 1; fi
wait "$PID" && STATUS=0 || STATUS=$?
PID=
[ "$STATUS" = 0 ] || { tail -20 "$LOG" >&2; echo "smoke: exit status $STATUS after SIGTERM" >&2; exit 1; }
echo "smoke: npm start served $URL, answered a tools/call with the printed token, stopped cleanly" >&2
