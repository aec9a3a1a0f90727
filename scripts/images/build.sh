#!/usr/bin/env bash
# Builds the images with podman/buildah, no Docker engine or registry needed:
#   localhost/cqrs-api:local, localhost/cqrs-worker:local   the `runtime` targets (what Kubernetes runs)
#   localhost/cqrs-api:dev,   localhost/cqrs-worker:dev     the `dev` targets (skaffold dev)
# Layers are cached in podman's storage (--layers): both Dockerfiles share their base, install
# and build stages, so the second image and unchanged dependencies cost nothing. The base image
# comes from scripts/images/base-image.sh (pulled, or a local stand-in when no registry answers).
# buildah ignores the `# syntax=` line, which BuildKit would try to fetch from a registry.
# Usage: bash scripts/images/build.sh [tag-suffix]   (IMAGE_TAG=local by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/images/podman-env.sh
IMAGE_TAG="${IMAGE_TAG:-local}"

bash scripts/images/base-image.sh

build() { # dockerfile target tag
  local started=$SECONDS
  # Host networking: builds reach the npm registry the way the host does, with no bridge setup.
  podman build --quiet --network host --layers --pull=never -f "$1" --target "$2" -t "$3" . >/dev/null
  echo "built $3 ($2 of $1) in $((SECONDS - started)) s"
}

for image in api worker; do
  build "Dockerfile.$image" runtime "localhost/cqrs-$image:$IMAGE_TAG"
done
for image in api worker; do
  build "Dockerfile.$image" dev "localhost/cqrs-$image:dev"
done
