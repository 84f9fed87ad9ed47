#!/usr/bin/env bash
# CI: builds the optfleet image from deploy/Dockerfile with podman (no Docker engine here, no
# registry reachable): podman set-up, the locally made base image, then
# `podman build --pull=never --network=host`. Tags $OPTFLEET_IMAGE (default localhost/optfleet:ci),
# which test/integration/container.test.ts runs. Prints the build time and the image size.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${OPTFLEET_IMAGE:-localhost/optfleet:ci}
bash deploy/ci/podman-setup.sh
bash deploy/ci/base-image.sh
# The machine's CA bundle, for npm behind a TLS-inspecting proxy (a build secret: not in the image).
secret=()
ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] && secret=(--secret "id=cacert,src=$ca")
# Revision and date also as --label: a cached LABEL layer would keep the previous build's values.
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s)
podman --runtime /usr/sbin/runc build --pull=never --network=host "${secret[@]}" \
  --build-arg VERSION="$(node -p 'require("./package.json").version ?? "0.1.0"' 2>/dev/null || echo 0.1.0)" \
  --build-arg REVISION="$revision" --build-arg CREATED="$created" \
  --label "org.opencontainers.image.revision=$revision" --label "org.opencontainers.image.created=$created" \
  -f deploy/Dockerfile -t "$IMAGE" .
t1=$(date +%s)
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image $IMAGE built in $((t1 - t0)) s, $((size / 1000000)) MB"
