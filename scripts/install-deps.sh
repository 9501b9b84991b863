#!/usr/bin/env bash
# Installs what the build and the tests need, and nothing that is already there.
# Idempotent: a second run on a ready machine costs a few dpkg look-ups.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-14 clang-format-14 lld-14 libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libssl-dev libhiredis-dev
  prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server nginx haproxy curl
)
# Node.js may come from Debian or from another vendor's nodejs package that bundles npm.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node packages for the end-to-end tests: the official TypeScript SDK client, the official
# conformance suite and a Node 22 binary (the suite needs Node >= 22; Debian ships 20).
if [ "${FRONTMCP_SKIP_NPM:-0}" != 1 ]; then
  stamp=tests/e2e/node_modules/.frontmcp-lock
  if [ ! -f "$stamp" ] || ! cmp -s tests/e2e/package-lock.json "$stamp"; then
    echo "install-deps: npm ci in tests/e2e"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/e2e/package-lock.json "$stamp"
  fi
fi
