#!/usr/bin/env bash
# Builds the Dockerfile's base image locally, because no container registry is reachable from CI:
# a minimal Debian bookworm rootfs (debootstrap, from Debian's mirror) plus this machine's own
# Node.js 20 and npm, laid out like the official image (node and npm under /usr/local, user
# `node` uid/gid 1000), imported and tagged as docker.io/library/node:20-bookworm-slim so that
# `podman build --pull=never` resolves the Dockerfile's FROM to it.
#
# Cached: the rootfs tarball lives in $OPTFLEET_CI_CACHE (default ~/.cache/optfleet-ci), keyed
# by the Node version; the import is skipped when podman already has the tag with that key.
set -euo pipefail
RUNTIME=(--runtime /usr/sbin/runc)
TAG=docker.io/library/node:20-bookworm-slim
CACHE=${OPTFLEET_CI_CACHE:-$HOME/.cache/optfleet-ci}
NODE=$(readlink -f "$(command -v node)")
NODE_VERSION=$("$NODE" --version)
case "$NODE_VERSION" in v20.*) ;; *) echo "base-image: need Node 20 on this machine, found $NODE_VERSION" >&2; exit 1 ;; esac
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
KEY="bookworm-minbase-node-$NODE_VERSION"
TARBALL="$CACHE/$KEY.tar"

have=$(podman "${RUNTIME[@]}" image inspect --format '{{index .Labels "optfleet.ci.base"}}' "$TAG" 2>/dev/null || true)
if [ "$have" = "$KEY" ]; then
  echo "base-image: $TAG ($KEY) already present"
  exit 0
fi

mkdir -p "$CACHE"
if [ ! -f "$TARBALL" ]; then
  root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "base-image: debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  # Node and npm where the official image has them.
  install -D -m 0755 "$NODE" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$NPM_DIR" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The official image's unprivileged user.
  grep -q '^node:' "$root/etc/group" || echo 'node:x:1000:' >>"$root/etc/group"
  grep -q '^node:' "$root/etc/passwd" || echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$root/etc/passwd"
  install -d -o 1000 -g 1000 "$root/home/node"
  # Keep the image small: no apt lists, docs or caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
  chroot "$root" /usr/local/bin/node --version >/dev/null # every shared library node needs is in the rootfs
  tar -C "$root" --numeric-owner -cf "$TARBALL.part" .
  mv "$TARBALL.part" "$TARBALL"
fi
podman "${RUNTIME[@]}" import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
  --change "LABEL optfleet.ci.base=$KEY" \
  --change 'CMD ["node"]' \
  "$TARBALL" "$TAG" >/dev/null
echo "base-image: imported $TAG ($KEY)"
