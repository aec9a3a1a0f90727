# Sourced by the other scripts here: makes Debian's podman/buildah usable on these machines.
#   - crun refuses the hybrid cgroup layout ("hybrid mode not supported"): run containers with runc.
#   - podman's default ulimits ask for more open files than the hard limit allows: stay within it.
# Only CONTAINERS_CONF is set (a file under the cache directory); the system's
# /etc/containers configuration is left alone. An explicit CONTAINERS_CONF wins.
IMAGES_CACHE_DIR="${IMAGES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cqrs-service-template/images}"
mkdir -p "$IMAGES_CACHE_DIR"

if [ -z "${CONTAINERS_CONF:-}" ]; then
  nofile="$(ulimit -Hn)"
  [ "$nofile" = unlimited ] && nofile=1048576
  nproc="$(ulimit -Hu)"
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
  CONTAINERS_CONF="$IMAGES_CACHE_DIR/containers.conf"
  cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF
fi

# The Node version of the images: the project's `node` devDependency (package.json), which the
# Dockerfiles' pinned base image `node:<version>-slim` must match (test/deploy checks that).
NODE_VERSION="$(sed -n 's/^ *"node": "\([0-9][0-9.]*\)",\{0,1\}$/\1/p' package.json | head -1)"
BASE_IMAGE="node:${NODE_VERSION}-slim"
export IMAGES_CACHE_DIR NODE_VERSION BASE_IMAGE
