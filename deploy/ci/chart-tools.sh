#!/usr/bin/env bash
# CI: the chart-check tools, cached in $OPTFLEET_CI_CACHE/bin (default ~/.cache/optfleet-ci/bin):
# helm at a pinned version (go install, rebuilt only when the cached binary reports another
# version) and helm/tools/kube-validate (go build; the Go build cache makes it quick when unchanged).
set -euo pipefail
cd "$(dirname "$0")/../.."
HELM_VERSION=v3.19.5
CACHE=${OPTFLEET_CI_CACHE:-$HOME/.cache/optfleet-ci}
BIN="$CACHE/bin"
mkdir -p "$BIN"
command -v go >/dev/null || { echo "chart-tools: the Go toolchain is needed (go >= 1.24 on PATH)" >&2; exit 1; }
export GOFLAGS=-buildvcs=false
if [ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null || true)" != "$HELM_VERSION" ]; then
  echo "chart-tools: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  GOBIN="$BIN" go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
"$BIN/helm" version --template 'helm {{.Version}} ({{.GoVersion}})'; echo
(cd helm/tools/kube-validate && go build -o "$BIN/kube-validate" .)
echo "chart-tools: kube-validate built"
