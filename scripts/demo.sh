#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds Takt and runs the demo on
# the embedded log: a server, six simulated plants in five time zones over
# three days (gateways resending and delivering late), a director's summary
# from the rollups, the plants' quality (SPC signals, capability, NCRs), an
# auditor's recomputation of a plant's OEE from the raw events, then an
# auditor's offline verification of the log.
# With --serve the server stays up afterwards, the directors' dashboard at
# the URL it prints (Ctrl-C stops it).
# Usage (as root on Debian 12): ./scripts/demo.sh [--serve] [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1  # share entries with clones in other folders
SERVE=0
if [[ "${1:-}" == "--serve" ]]; then SERVE=1; shift; fi
DATA_DIR="${1:-takt-data}"
./scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target takt
TAKT=./build/release/cmd/takt/takt
PORT="${TAKT_DEMO_PORT:-7470}"
HTTP_PORT="${TAKT_DEMO_HTTP_PORT:-8080}"

# Plaintext on loopback for the demo (--insecure); see the README for TLS.
"$TAKT" serve --insecure --data-dir "$DATA_DIR" --listen "127.0.0.1:$PORT" --http-listen "127.0.0.1:$HTTP_PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  if "$TAKT" rollup --target "127.0.0.1:$PORT" --from 2000-01-01 --to 2000-01-01 >/dev/null 2>&1; then break; fi
  sleep 0.2
done

"$TAKT" simulate --target "127.0.0.1:$PORT" --facilities 6 --days 3 --seed 7

# The simulated production days: the three days before yesterday (UTC).
FROM="$(date -u -d '-4 days' +%F)"
TO="$(date -u -d '-2 days' +%F)"
echo
echo "Auditor: Detroit's OEE recomputed from the raw events, beside the rollups (takt audit explain):"
"$TAKT" audit explain --target "127.0.0.1:$PORT" --scope facilities/detroit-1 --kpi oee \
  --from "$FROM" --to "$TO"

if ((SERVE)); then
  echo
  echo "The directors' dashboard: http://127.0.0.1:$HTTP_PORT/#scope=enterprise&from=$FROM&to=$TO&by=day&target=85"
  echo "(the server keeps running; Ctrl-C stops it)"
  wait $SERVER
  exit 0
fi
kill $SERVER; wait $SERVER 2>/dev/null || true
trap - EXIT
echo
echo "Auditor: offline verification of $DATA_DIR (takt log verify):"
"$TAKT" log verify --data-dir "$DATA_DIR"
