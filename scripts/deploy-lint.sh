#!/usr/bin/env bash
# Checks the deployment files on a machine without a Docker engine (CI):
#
#   1. docker/deploy.sh init on a scratch copy of docker/ and nginx/: the files it writes, their
#      modes, and secrets that agree with each other; then deploy.sh's other commands against a
#      stub `docker` that records what it is asked (backup writes a 0600 dump from pg_dump, …).
#   2. The compose files, as `docker compose config` would see them on that fresh deployment:
#      `docker compose config -q` itself when the docker client has the compose plugin (it needs
#      no engine); always scripts/compose-config.js (interpolation, merge, the Compose
#      Specification's JSON schema, references) for compose.yml alone and with each OpenProject
#      file; and a deliberately broken copy must fail, so the check is known to bite.
#   3. dclint (Docker Compose linter, npm) on the three compose files, docker/dclint.json.
#   4. dockerfile-utils lint (npm; the validator of the Docker language server) on
#      docker/Dockerfile: errors and warnings both fail; then the image's own rules (multi-stage,
#      non-root, NODE_ENV=production, a volume, a HEALTHCHECK on the status port, labels, never
#      test/) and .dockerignore.
#   5. shellcheck (Debian's) on the deployment scripts; required under CI=true.
#
# Tools are installed at pinned versions into .conformance/deploy-lint/ (git-ignored), like the
# conformance suites. Prints one closing line: "deploy-lint: N passed, N failed".
set -euo pipefail

DCLINT_VERSION=3.1.0
DOCKERFILE_UTILS_VERSION=0.16.3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS="$ROOT/.conformance/deploy-lint"

log() { printf '[deploy-lint] %s\n' "$*" >&2; }
passed=0
failed=0
ok() { log "ok: $*"; passed=$((passed + 1)); }
bad() { log "FAILED: $*"; failed=$((failed + 1)); }

version_of() { node -p "require(process.argv[1] + '/package.json').version" "$1" 2>/dev/null || true; }
if [[ "$(version_of "$TOOLS/node_modules/dclint")" != "$DCLINT_VERSION" || "$(version_of "$TOOLS/node_modules/dockerfile-utils")" != "$DOCKERFILE_UTILS_VERSION" ]]; then
  log "installing dclint@$DCLINT_VERSION and dockerfile-utils@$DOCKERFILE_UTILS_VERSION into .conformance/deploy-lint/"
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "dclint@$DCLINT_VERSION" "dockerfile-utils@$DOCKERFILE_UTILS_VERSION" >&2
fi
DCLINT="$TOOLS/node_modules/.bin/dclint"
DOCKERFILE_UTILS="$TOOLS/node_modules/.bin/dockerfile-utils"
SCHEMA="$TOOLS/node_modules/dclint/schemas/compose.schema.json"
YAML_PKG="$TOOLS/node_modules/yaml"
[[ -x "$DCLINT" && -x "$DOCKERFILE_UTILS" && -f "$SCHEMA" && -d "$YAML_PKG" ]] || { log "the tools did not install"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-deploy-lint.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- 1. deploy.sh on a scratch deployment ---------------------------------------------------------
SITE="$WORK/site"
mkdir -p "$SITE"
cp -r docker nginx "$SITE/"
rm -rf "$SITE/docker/secrets" "$SITE/docker/.env" "$SITE/docker/portico.env" "$SITE/docker/backups"
# A stub docker: records its arguments; `compose exec -T postgres pg_dump …` prints a fake dump;
# `compose run … test -s …fullchain.pem` succeeds (a certificate exists).
mkdir -p "$WORK/bin"
cat >"$WORK/bin/docker" <<'STUB'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$DOCKER_STUB_LOG"
case "$*" in
  *"pg_dump"*) printf 'PGDMP fake dump\n' ;;
  *"compose ps --status running --services"*) printf 'portico\n' ;;
esac
exit 0
STUB
chmod +x "$WORK/bin/docker"
export DOCKER_STUB_LOG="$WORK/docker.log"
deploy() { PATH="$WORK/bin:$PATH" bash "$SITE/docker/deploy.sh" "$@"; }

if deploy init mcp.example.test ops@example.test 2>"$WORK/init.log"; then
  modes=$(cd "$SITE/docker" && stat -c '%n %a' secrets secrets/postgres.env secrets/redis.env secrets/portico.env | tr '\n' ' ')
  pw=$(sed -n 's/^POSTGRES_PASSWORD=//p' "$SITE/docker/secrets/postgres.env")
  rpw=$(sed -n 's/^REDIS_PASSWORD=//p' "$SITE/docker/secrets/redis.env")
  if [[ "$modes" == "secrets 700 secrets/postgres.env 600 secrets/redis.env 600 secrets/portico.env 600 " ]] &&
    grep -qx "PORTICO_DOMAIN=mcp.example.test" "$SITE/docker/.env" &&
    grep -qx "DATABASE_URL=postgres://portico:$pw@postgres:5432/portico" "$SITE/docker/secrets/portico.env" &&
    grep -qx "REDIS_URL=redis://:$rpw@redis:6379" "$SITE/docker/secrets/portico.env" &&
    [[ ${#pw} -eq 32 ]] && grep -qE '^OAUTH_SERVER_SECRET=.{64}$' "$SITE/docker/secrets/portico.env" &&
    [[ -f "$SITE/docker/portico.env" ]]; then
    ok "deploy.sh init writes .env, portico.env and secrets/ (0700, files 0600) with matching passwords"
  else
    bad "deploy.sh init: unexpected result ($modes)"
  fi
  before=$(cat "$SITE/docker/secrets/portico.env")
  deploy init mcp.example.test ops@example.test 2>/dev/null
  if [[ "$(cat "$SITE/docker/secrets/portico.env")" == "$before" ]]; then ok "deploy.sh init again keeps every secret"; else bad "deploy.sh init overwrote a secret"; fi
else
  bad "deploy.sh init failed: $(cat "$WORK/init.log")"
fi

: >"$DOCKER_STUB_LOG"
if deploy backup 2>/dev/null && dump=$(ls "$SITE/docker/backups/"portico-*.dump 2>/dev/null) && [[ "$(stat -c %a "$dump")" == 600 ]] &&
  grep -q PGDMP "$dump" && grep -q 'compose exec -T postgres pg_dump -U portico -d portico --format=custom' "$DOCKER_STUB_LOG"; then
  ok "deploy.sh backup: pg_dump --format=custom into backups/ (0600)"
else
  bad "deploy.sh backup: $(cat "$DOCKER_STUB_LOG")"
fi
: >"$DOCKER_STUB_LOG"
if deploy up >/dev/null 2>&1 && grep -q '^compose build' "$DOCKER_STUB_LOG" && grep -q '^compose up -d --wait' "$DOCKER_STUB_LOG"; then
  ok "deploy.sh up: checks the certificate, builds, starts and waits for health"
else
  bad "deploy.sh up: $(cat "$DOCKER_STUB_LOG")"
fi
: >"$DOCKER_STUB_LOG"
if deploy doctor --token t >/dev/null 2>&1 && grep -q 'compose exec portico node dist/src/main.js doctor https://mcp.example.test/mcp --status-url http://127.0.0.1:8081 --token t' "$DOCKER_STUB_LOG"; then
  ok "deploy.sh doctor runs portico doctor on the public URL from inside the stack"
else
  bad "deploy.sh doctor: $(cat "$DOCKER_STUB_LOG")"
fi
if printf 'opapi-test-key\n' | deploy openproject-key 2>/dev/null && [[ "$(stat -c '%a %u' "$SITE/docker/secrets/openproject_api_key")" == "400 1000" ]]; then
  ok "deploy.sh openproject-key stores the key readable by the image's node user only (0400, uid 1000)"
else
  bad "deploy.sh openproject-key"
fi

# --- 2. the compose files, as docker compose config sees them --------------------------------------
D="$SITE/docker"
printf 'OPENPROJECT_SECRET_KEY_BASE=test\n' >"$D/secrets/openproject.env"
compose_config() { # label, env..., -- files...
  local label=$1
  shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  local files=()
  for f in "$@"; do files+=(-f "$f"); done
  if env "${envs[@]}" node scripts/compose-config.js --project-dir "$D" --yaml "$YAML_PKG" --schema "$SCHEMA" --quiet "${files[@]}" 2>"$WORK/cc.log"; then
    ok "compose-config $label"
  else
    bad "compose-config $label: $(cat "$WORK/cc.log")"
  fi
  if docker compose version >/dev/null 2>&1; then
    if (cd "$D" && env "${envs[@]}" docker compose "${files[@]}" config -q) 2>"$WORK/dc.log"; then
      ok "docker compose config $label"
    else
      bad "docker compose config $label: $(cat "$WORK/dc.log")"
    fi
  fi
}
if ! docker compose version >/dev/null 2>&1; then
  log "the docker client here has no compose plugin ($(docker --version 2>/dev/null || echo 'no docker client')): validating with scripts/compose-config.js and the Compose Specification schema only"
fi
OP_ENV=(OPENPROJECT_NETWORK=openproject_default OPENPROJECT_WEB_URL=https://pm.example.test OPENPROJECT_DOMAIN=pm.example.test)
compose_config "compose.yml" PORTICO_X=1 -- compose.yml
compose_config "compose.yml + compose.openproject.yml" "${OP_ENV[@]}" -- compose.yml compose.openproject.yml
compose_config "compose.yml + compose.openproject-stack.yml" "${OP_ENV[@]}" -- compose.yml compose.openproject-stack.yml

# The check bites: a missing variable, a dangling depends_on, an unknown key each fail.
awk '/^networks:/{print "  ghost:\n    image: busybox:1\n    depends_on: [nowhere]\n    networks: [undeclared]\n"}1' "$D/compose.yml" | sed 's/condition: service_completed_successfully/condition: service_done/' >"$D/broken.yml"
if node scripts/compose-config.js --project-dir "$D" --yaml "$YAML_PKG" --schema "$SCHEMA" --quiet -f broken.yml 2>"$WORK/cc.log"; then
  bad "compose-config accepted a broken file"
elif grep -q 'no service nowhere' "$WORK/cc.log" && grep -q 'network undeclared is not declared' "$WORK/cc.log" && grep -q 'schema:' "$WORK/cc.log"; then
  ok "compose-config refuses a broken file (schema, depends_on, networks)"
else
  bad "compose-config on a broken file: $(cat "$WORK/cc.log")"
fi
if env -u PORTICO_DOMAIN node scripts/compose-config.js --project-dir "$D" --env-file /dev/null --yaml "$YAML_PKG" --schema "$SCHEMA" --quiet -f compose.yml 2>"$WORK/cc.log"; then
  bad "compose-config accepted compose.yml without PORTICO_DOMAIN"
elif grep -q 'required variable PORTICO_DOMAIN is missing a value' "$WORK/cc.log"; then
  ok "compose-config refuses compose.yml without PORTICO_DOMAIN (\${PORTICO_DOMAIN:?…})"
else
  bad "compose-config without PORTICO_DOMAIN: $(cat "$WORK/cc.log")"
fi

# --- 3. dclint ---------------------------------------------------------------------------------
if "$DCLINT" -c docker/dclint.json --max-warnings 0 docker/compose.yml docker/compose.openproject.yml docker/compose.openproject-stack.yml >"$WORK/dclint.log" 2>&1; then
  ok "dclint@$DCLINT_VERSION: the three compose files"
else
  bad "dclint: $(cat "$WORK/dclint.log")"
fi

# --- 4. the Dockerfile ---------------------------------------------------------------------------
if diagnostics=$("$DOCKERFILE_UTILS" lint --json docker/Dockerfile) && [[ "$diagnostics" == "[]" ]]; then
  ok "dockerfile-utils@$DOCKERFILE_UTILS_VERSION lint docker/Dockerfile: no error, no warning"
else
  bad "dockerfile-utils lint docker/Dockerfile: $diagnostics"
fi
# The image's own rules, on the final stage (after the last FROM).
runtime=$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' docker/Dockerfile)
# shellcheck disable=SC2016 # each rule is a command run later with $runtime set
rules=(
  'multi-stage: build and prune stages|grep -c "^FROM .* AS \(build\|prune\)$" docker/Dockerfile | grep -qx 2'
  'runs as the node user|grep -qx "USER node" <<<"$runtime"'
  'NODE_ENV=production|grep -q "NODE_ENV=production" <<<"$runtime"'
  'a volume for /data|grep -q "^VOLUME \[\"/data\"\]" <<<"$runtime"'
  'a HEALTHCHECK on the status port|grep -q "^HEALTHCHECK " <<<"$runtime" && grep -q "STATUS_PORT.*/health/ready" <<<"$runtime"'
  'OCI labels|grep -q "org.opencontainers.image.title" <<<"$runtime"'
  'keeps the PGlite template (assets/)|grep -q "^COPY assets ./assets" <<<"$runtime"'
  'never copies test/ nor the whole context|! grep -Eq "^(COPY|ADD)\s.*\btest\b" docker/Dockerfile && ! grep -Eq "^(COPY|ADD)\s+(--\S+\s+)*\.\s" docker/Dockerfile'
  '.dockerignore keeps test/ and secrets out|grep -qx test .dockerignore && grep -qx secrets .dockerignore && grep -qx .env .dockerignore'
)
for rule in "${rules[@]}"; do
  if bash -c "runtime=\$1; ${rule#*|}" _ "$runtime"; then ok "Dockerfile: ${rule%%|*}"; else bad "Dockerfile: ${rule%%|*}"; fi
done

# --- 5. the deployment scripts ---------------------------------------------------------------
scripts=(docker/deploy.sh docker/nginx-reload.sh scripts/ensure-nginx.sh scripts/nginx-conformance.sh scripts/deploy-lint.sh scripts/image-rehearsal.sh)
if command -v shellcheck >/dev/null; then
  if shellcheck -x "${scripts[@]}" >"$WORK/shellcheck.log" 2>&1; then
    ok "shellcheck $(shellcheck --version | sed -n 's/^version: //p'): ${scripts[*]}"
  else
    bad "shellcheck: $(cat "$WORK/shellcheck.log")"
  fi
elif [[ "${CI:-}" == true ]]; then
  bad "shellcheck is not installed (.ci/run installs Debian's)"
else
  log "shellcheck is not installed: skipped (apt-get install shellcheck)"
fi

echo "deploy-lint: ${passed} passed, ${failed} failed"
((failed == 0))
