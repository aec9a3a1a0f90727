#!/usr/bin/env bash
# CI proof of `npm run new` and docs/adding-a-feature.md: in a scratch copy of the repository,
# generate one part of each kind, check that the guide names every file written or changed, then
# generate the OpenAPI document and routes (with the generated routes) and lint the document, and
# run the type check, the dependency rules, lint and the generated tests (which call the routes) (plus the read-model
# declaration tests) against PostgreSQL and Redis, each test on its own database and queue
# prefix. Leaves the repository untouched. About 1-2 minutes.
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
# docs/adding-a-feature.md names every file the generator wrote or changed (with placeholders).
undocumented=()
for file in "${changed[@]}"; do
  named=$(sed -E -e 's/Migration[0-9]{14}_event_counts/Migration<timestamp>_<name>/' -e 's#commands/products/#commands/<noun>s/#' \
    -e 's#controllers/products\.controller#controllers/<noun>s.controller#' \
    -e 's/archive-product/<verb>-<noun>/g' -e 's/event-counts|audit-trail/<name>/g' <<<"$file")
  grep -qF "\`$named\`" docs/adding-a-feature.md || undocumented+=("$named")
done
if [ "${#undocumented[@]}" -gt 0 ]; then
  echo "docs/adding-a-feature.md does not name what npm run new writes: ${undocumented[*]}" >&2
  exit 1
fi

npm run typecheck # runs npm run gen: the OpenAPI document and routes with the generated routes
npm run openapi:lint
npm run deps:check
npx eslint --max-warnings=0 "${changed[@]}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
  REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" \
  npx mocha --no-config --node-option import=tsx --require test/support/hooks.ts --timeout 60000 --exit \
  "${tests[@]}" test/unit/read-models.test.ts test/integration/read-models.test.ts
echo "npm run new: every kind generated, type-checked, within the dependency rules, linted and tested"
