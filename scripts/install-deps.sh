#!/usr/bin/env bash
# Installs the Debian 12 packages Takt builds against. Idempotent: does
# nothing when everything is already there. Run as root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git tzdata
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  librdkafka-dev librocksdb-dev libabsl-dev libssl-dev libsodium-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev clang libjwt-dev
  libcpp-httplib-dev libjs-chart.js chromium chromium-driver python3-selenium openssl
  prometheus-cpp-dev
)
# The helm chart test (tests/helm): its renderer on Debian's Go and Go
# libraries, yamllint, node for the schema validation (npm packages). Not
# in the list above, which the container image's build stage reads.
PACKAGES+=(
  golang-go golang-github-masterminds-sprig-dev golang-github-masterminds-semver-dev
  golang-gopkg-yaml.v2-dev golang-gopkg-yaml.v3-dev yamllint nodejs
)
# Debian's npm, unless node already brings its own (NodeSource's nodejs
# does, and conflicts with Debian's npm package).
if ! command -v npm >/dev/null; then PACKAGES+=(npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
