#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds Takt and runs the demo on
# the embedded log: appends, resends, reads back and verifies events, then
# verifies the data directory offline as an auditor would.
# Usage (as root on Debian 12): ./scripts/demo.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${1:-takt-data}"
./scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target takt
./build/release/cmd/takt/takt log demo --data-dir "$DATA_DIR"
echo
echo "Offline verification of $DATA_DIR (takt log verify):"
./build/release/cmd/takt/takt log verify --data-dir "$DATA_DIR"
