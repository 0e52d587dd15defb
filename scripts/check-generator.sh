#!/usr/bin/env bash
# The extension kit's own test: runs `npm run new:module` in a copy of the project
# in a temporary folder, checks that it wrote the new module, its tests and one
# export line and edited nothing else, then type-checks the copy and runs the
# generated unit and e2e tests there (the e2e test boots the app without being
# handed the module: the export line alone registers it). CI runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
name=${1:-stock-levels}
work=$(mktemp -d "${TMPDIR:-/tmp}/portico-generator-XXXXXX")
trap 'rm -rf "$work"' EXIT

log() { printf '\n== generator check: %s\n' "$*" >&2; }

log "copy the project to $work (node_modules linked)"
git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$work"
ln -s "$root/node_modules" "$work/node_modules"

snapshot() { (cd "$work" && find . -path ./node_modules -prune -o -type f -print0 | sort -z | xargs -0 sha1sum); }
before=$(snapshot)

log "npm run new:module -- $name"
(cd "$work" && npm run --silent new:module -- "$name")

log "nothing edited but the one export line"
after=$(snapshot)
changed=$({ diff <(echo "$before") <(echo "$after") || true; } | sed -n 's/^[<>] [0-9a-f]*  \.\///p' | sort -u)
kebab=${name//_/-}
expected=$(printf '%s\n' \
  "src/tools/$kebab/$kebab.module.ts" \
  "src/tools/$kebab/$kebab.tools.spec.ts" \
  "src/tools/$kebab/$kebab.tools.ts" \
  "src/tools/tool-modules.ts" \
  "test/e2e/$kebab.e2e-spec.ts" | sort)
if [ "$changed" != "$expected" ]; then
  echo "the generator changed other files than expected:" >&2
  diff <(echo "$expected") <(echo "$changed") >&2 || true
  exit 1
fi
registry_diff=$(diff "$root/src/tools/tool-modules.ts" "$work/src/tools/tool-modules.ts" || true)
if [ "$(grep -c '^>' <<<"$registry_diff")" != 1 ] || grep -q '^<' <<<"$registry_diff"; then
  echo "src/tools/tool-modules.ts should gain exactly one line, got:" >&2
  echo "$registry_diff" >&2
  exit 1
fi
grep '^>' <<<"$registry_diff" >&2

log "the copy type-checks (tsc -p tsconfig.json --noEmit)"
(cd "$work" && node_modules/.bin/tsc -p tsconfig.json --noEmit)

log "the generated tests pass"
(cd "$work" && node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
  "src/tools/$kebab/" "test/e2e/$kebab.e2e-spec.ts")
