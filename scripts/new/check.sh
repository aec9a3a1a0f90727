#!/usr/bin/env bash
# CI proof of `npm run new` and docs/adding-a-feature.md: in a scratch copy of the repository,
# generate one part of each kind, then run the type check, the dependency rules, lint and the
# generated tests (plus the read-model declaration tests) against PostgreSQL and Redis, each test
# on its own database and queue prefix. Leaves the repository untouched. About 2-3 minutes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/new-check.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# Tracked and new (not ignored) files as they are in the working tree; dependencies shared.
git -C "$root" ls-files -z --cached --others --exclude-standard |
  tar -C "$root" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$scratch" -xf -
ln -s "$root/node_modules" "$scratch/node_modules"
[ -d "$root/clients/typescript/node_modules" ] && ln -s "$root/clients/typescript/node_modules" "$scratch/clients/typescript/node_modules"
cd "$scratch"
touch .before-generation
sleep 1

npm run --silent new -- command archive-product
npm run --silent new -- read-model event-counts
npm run --silent new -- process audit-trail

mapfile -t changed < <(find src migrations test -name '*.ts' -newer .before-generation | sort)
mapfile -t tests < <(printf '%s\n' "${changed[@]}" | grep '\.test\.ts$')
npm run typecheck
npm run deps:check
npx eslint --max-warnings=0 "${changed[@]}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
  REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" \
  npx mocha --no-config --node-option import=tsx --require test/support/hooks.ts --timeout 60000 --exit \
  "${tests[@]}" test/unit/read-models.test.ts test/integration/read-models.test.ts
echo "npm run new: every kind generated, type-checked, within the dependency rules, linted and tested"
