#!/usr/bin/env bash
# Validates docker-compose.yml with Debian's docker-compose (no Docker engine
# is needed to parse it), installing the package where it is missing. The Go
# test internal/config/compose_test.go checks that its names, ports and
# variables agree with the configuration table.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null; then
  echo "installing Debian's docker-compose to validate docker-compose.yml"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null
fi
docker-compose -f docker-compose.yml config -q
echo "docker-compose.yml: valid"
