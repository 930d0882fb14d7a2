#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds Takt and runs every test.
# Usage (as root on Debian 12): ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$PWD"
# Debug builds hash the working directory unless told not to: a clone in
# another folder would then miss every entry.
export CCACHE_NOHASHDIR=1
./scripts/install-deps.sh
cmake --preset release
cmake --build --preset release
# Clang's thread-safety analysis over the annotated code (GCC builds it with -Werror).
./scripts/thread-safety.sh build/release
ctest --preset release
