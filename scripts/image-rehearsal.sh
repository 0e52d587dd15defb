#!/usr/bin/env bash
# The runtime stage of docker/Dockerfile, rehearsed without Docker: the same four things copied
# into an empty folder (production node_modules from `npm ci --omit=dev`, dist/, package.json,
# assets/), run the way the image runs it (ENTRYPOINT + CMD, its ENV, an unprivileged user,
# files it cannot write, only DATA_DIR writable), then the image's own HEALTHCHECK command must
# pass and `portico doctor` against it must pass every required check. Catches a runtime
# dependency left in devDependencies, a file the runtime reads that the image lacks, and a
# broken HEALTHCHECK, none of which a linter sees.
#
#   bash scripts/image-rehearsal.sh      (.ci/run; needs dist/: npm run build)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
log() { printf '[image-rehearsal] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ -f dist/src/main.js ]] || npm run build >&2

# The runtime stage: everything after the last FROM.
runtime=$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' docker/Dockerfile)
copies=$(grep '^COPY ' <<<"$runtime")
expected=$'COPY --from=prune /app/node_modules ./node_modules\nCOPY --from=build /app/dist ./dist\nCOPY package.json ./\nCOPY assets ./assets'
[[ "$copies" == "$expected" ]] || die "the runtime stage copies something else than this rehearsal does; update both:"$'\n'"$copies"
health_cmd=$(sed -n 's/^  CMD \(\[.*\]\)$/\1/p' <<<"$runtime")
[[ -n "$health_cmd" ]] || die "no HEALTHCHECK CMD line found in the runtime stage"
user=nobody

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-image.XXXXXX")
PID=
cleanup() {
  local rc=$?
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  ((rc == 0)) || { log "server log:"; tail -n 40 "$WORK/server.log" >&2 || true; }
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

APP="$WORK/app"
mkdir -p "$APP" "$WORK/data"
cp package.json package-lock.json "$APP/"
log "npm ci --omit=dev (the prune stage)"
(cd "$APP" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2)
rm "$APP/package-lock.json"
cp -r dist "$APP/dist"
cp -r assets "$APP/assets"
chmod -R a+rX,go-w "$WORK"
chmod 755 "$WORK"
[[ $(id -u) -ne 0 ]] || chown "$user" "$WORK/data"

read -r PORT STATUS_PORT < <(node -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => { const b = net.createServer().listen(0, "127.0.0.1", () => { console.log(a.address().port, b.address().port); a.close(); b.close(); }); });')
# The image's ENV, with free ports; ALLOWED_HOSTS and PUBLIC_BASE_URL as compose.yml sets them.
image_env=(NODE_ENV=production HOST=0.0.0.0 PORT="$PORT" STATUS_HOST=0.0.0.0 STATUS_PORT="$STATUS_PORT" DATA_DIR="$WORK/data"
  ALLOWED_HOSTS=mcp.example.test PUBLIC_BASE_URL="http://127.0.0.1:$PORT" LOG_LEVEL=warn)
# As the image's unprivileged user (root runs it through runuser; anyone else already is one).
as_user=()
[[ $(id -u) -ne 0 ]] || as_user=(runuser -u "$user" --)

log "starting node dist/src/main.js serve as $user in $APP (read-only to it)"
(cd "$APP" && exec env -i PATH="$PATH" "${image_env[@]}" "${as_user[@]}" node dist/src/main.js serve) >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; kill -0 "$PID" 2>/dev/null || die "Portico exited"; sleep 0.5; done

# The HEALTHCHECK, as Docker runs it: the exec form's array, with the image's environment.
mapfile -t argv < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$health_cmd")
healthy=false
for _ in $(seq 1 60); do
  if (cd "$APP" && env -i PATH="$PATH" "${image_env[@]}" "${as_user[@]}" "${argv[@]}"); then healthy=true; break; fi
  sleep 0.5
done
[[ $healthy == true ]] || die "the image's HEALTHCHECK command does not pass"
log "HEALTHCHECK passes"

[[ -s "$WORK/data/auth-token" ]] || die "no generated token in DATA_DIR (writable by $user?)"
token=$(cat "$WORK/data/auth-token")
if node dist/src/cli/portico.js doctor "http://127.0.0.1:$PORT/mcp" --token "$token" --status-url "http://127.0.0.1:$STATUS_PORT" >"$WORK/doctor.txt"; then
  log "portico doctor against the rehearsed image: every required check passes"
else
  cat "$WORK/doctor.txt" >&2
  die "portico doctor found problems"
fi
grep -E '^(PASS|FAIL|WARN|SKIP)' "$WORK/doctor.txt" >&2
echo "image-rehearsal: 1 passed, 0 failed"
