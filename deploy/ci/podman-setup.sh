#!/usr/bin/env bash
# Makes podman usable on a CI machine without a Docker engine (root, Debian bookworm):
# installs podman, runc and debootstrap when missing, and writes the two adjustments this
# machine's kernel/cgroup setup needs (no default ulimits, no pids limit). crun refuses the
# cgroup setup here, so every podman call in CI passes `--runtime /usr/sbin/runc`.
# Idempotent: a second run changes nothing.
set -euo pipefail

missing=()
command -v podman >/dev/null || missing+=(podman)
[ -x /usr/sbin/runc ] || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

conf=/etc/containers/containers.conf
want='[containers]
default_ulimits = []
pids_limit = 0'
if [ ! -f "$conf" ] || ! grep -q '^pids_limit = 0' "$conf" || ! grep -q '^default_ulimits = \[\]' "$conf"; then
  mkdir -p /etc/containers
  if [ -f "$conf" ] && ! grep -q 'optfleet-ci' "$conf"; then cp "$conf" "$conf.before-optfleet-ci"; fi
  printf '# written by optfleet deploy/ci/podman-setup.sh (optfleet-ci)\n%s\n' "$want" >"$conf"
fi
podman --version
