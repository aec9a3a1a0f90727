#!/usr/bin/env bash
# Builds the images with podman/buildah, no Docker engine or registry needed:
#   localhost/cqrs-api:local, localhost/cqrs-worker:local   the `runtime` targets (what Kubernetes runs)
#   localhost/cqrs-api:dev,   localhost/cqrs-worker:dev     the `dev` targets (skaffold dev)
# Layers are cached in podman's storage (--layers): both Dockerfiles share their base, install
# and build stages, so the second image and unchanged dependencies cost nothing. The base image
# comes from scripts/images/base-image.sh (pulled, or a local stand-in when no registry answers).
# buildah ignores the `# syntax=` line, which BuildKit would try to fetch from a registry.
# Usage: bash scripts/images/build.sh            (IMAGES_DEV=0 skips the dev targets)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/images/podman-env.sh

bash scripts/images/base-image.sh

# The Dockerfiles' `npm ci` steps keep npm's cache in a cache mount (target /root/.npm), which
# buildah keeps under ${TMPDIR:-/var/tmp}/buildah-cache/<target>. Where it is still empty, start
# it from the host's npm cache (content-addressed, so sharing it is safe): after the host's
# `npm ci` it holds every package the lockfile names, and the builds skip downloading them.
# Should buildah keep the cache elsewhere one day, this only stops saving time.
build_cache="${TMPDIR:-/var/tmp}/buildah-cache/root/.npm"
host_cache="$(npm config get cache 2>/dev/null || echo "$HOME/.npm")"
if [ ! -d "$build_cache/_cacache" ] && [ -d "$host_cache/_cacache" ] && [ -w "${TMPDIR:-/var/tmp}" ]; then
  mkdir -p "$build_cache"
  cp -R "$host_cache/_cacache" "$build_cache/_cacache"
  echo "npm cache of the builds: started from $host_cache"
fi

build() { # dockerfile target tag
  local started=$SECONDS
  # Host networking: builds reach the npm registry the way the host does, with no bridge setup.
  podman build --quiet --network host --layers --pull=never -f "$1" --target "$2" -t "$3" . >/dev/null
  echo "built $3 ($2 of $1) in $((SECONDS - started)) s"
}

for image in api worker; do
  build "Dockerfile.$image" runtime "localhost/cqrs-$image:local"
done
# IMAGES_DEV=0: the faster variant, without the dev stage (about 1.5 min less with its run).
if [ "${IMAGES_DEV:-1}" != 0 ]; then
  for image in api worker; do
    build "Dockerfile.$image" dev "localhost/cqrs-$image:dev"
  done
fi
