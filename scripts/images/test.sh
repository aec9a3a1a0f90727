#!/usr/bin/env bash
# npm run test:images: validates docker-compose.yml with a real Compose implementation, builds
# the images with podman (scripts/images/build.sh) and runs them against the host's PostgreSQL
# and Redis as the Kubernetes manifests run them (test/images/).
# Skips the image part, saying why, only where podman cannot run at all (not installed, or
# `podman info` fails); any other failure fails. DATABASE_URL / REDIS_URL default to this machine's.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
specs=(test/images/compose.test.ts)

if ! command -v podman >/dev/null 2>&1; then
  echo "test:images: SKIPPING the images: podman is not installed (apt-get install podman buildah runc debootstrap)"
else
  . scripts/images/podman-env.sh
  if ! info="$(podman info 2>&1)"; then
    echo "test:images: SKIPPING the images: podman cannot run here: $(printf '%s\n' "$info" | tail -1)"
  else
    started=$SECONDS
    bash scripts/images/build.sh
    echo "test:images: images ready in $((SECONDS - started)) s"
    specs+=(test/images/images.test.ts)
    if [ "${IMAGES_DEV:-1}" = 0 ]; then echo "test:images: IMAGES_DEV=0: the dev stage is neither built nor run"; fi
  fi
fi

mocha --no-config --node-option import=tsx --require test/support/hooks.ts --timeout 60000 "${specs[@]}"
