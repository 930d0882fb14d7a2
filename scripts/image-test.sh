#!/usr/bin/env bash
# Smoke test of Takt's container image (not part of CI: it needs a built
# image, see scripts/build-image.sh, and takes a minute or two).
#
#   ./scripts/image-test.sh [IMAGE]      # default takt:latest
#
# Checks: the default command refuses to serve without TLS; `serve
# --insecure` on a named volume becomes ready; `takt simulate` (the host's
# build/release binary if there is one, else the image's own on the host
# network) fills it; /readyz, /metrics, the HEALTHCHECK, the dashboard and
# Chart.js answer; `podman stop` (SIGTERM) ends it with exit code 0; the
# log verifies offline in the image; a new container on the same volume
# answers the same KPIs. Exits 0 with "SKIP: ..." when podman or the image
# is missing. Ports: TAKT_TEST_PORT_BASE (default 27470) + 0 gRPC, +1 HTTP,
# +2 admin, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${1:-${TAKT_IMAGE:-takt:latest}}"
if ! command -v podman >/dev/null; then
  echo "SKIP: podman is not installed (apt-get install podman, or run scripts/build-image.sh)"
  exit 0
fi
if ! podman image exists "$image"; then
  echo "SKIP: no image $image here: build it with scripts/build-image.sh"
  exit 0
fi

# The flags this host's sandbox needs (runc, rlimits): see build-image.sh.
mapfile -t flags < <(TAKT_IMAGE="$image" ./scripts/build-image.sh --podman-flags)
read -r -a G <<<"${flags[0]:-}"
read -r -a R <<<"${flags[1]:-}"
pod() { podman "${G[@]}" "$@"; }
run() { local sub=$1; shift; podman "${G[@]}" "$sub" "${R[@]}" "$@"; }

base=${TAKT_TEST_PORT_BASE:-27470}
grpc=$base http=$((base + 1)) admin=$((base + 2))
name=takt-image-test-$$
vol=takt-image-test-$$
day=2025-01-06
passed=0 failed=0
cleanup() {
  pod rm -f -t 0 "$name" "$name-2" >/dev/null 2>&1 || true
  pod volume rm -f "$vol" >/dev/null 2>&1 || true
}
trap cleanup EXIT
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# The client: the host's build when there is one, else the image's takt.
if [[ -x build/release/cmd/takt/takt ]]; then
  client() { build/release/cmd/takt/takt "$@"; }
  echo "client: build/release/cmd/takt/takt"
else
  client() { run run --rm --network host --no-healthcheck "$image" "$@"; }
  echo "client: takt in $image (--network host)"
fi

wait_ready() {  # 200 on /readyz within 90 s
  local i
  for ((i = 0; i < 90; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin/readyz")" == 200 ]] && return 0
    pod container exists "$1" && [[ "$(pod inspect -f '{{.State.Running}}' "$1")" == true ]] || return 1
    sleep 1
  done
  return 1
}
serve() {  # NAME: takt serve --insecure on the volume, ports published on loopback
  run run -d --name "$1" -v "$vol:/var/lib/takt" \
    -p "127.0.0.1:$grpc:7470" -p "127.0.0.1:$http:8080" -p "127.0.0.1:$admin:9090" \
    "$image" serve --insecure >/dev/null 2>/tmp/$name.err \
    || { cat /tmp/$name.err >&2; return 1; }
}
kpis() { client rollup --target "127.0.0.1:$grpc" --from $day --to $day | head -1; }

echo "image: $image ($(pod image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "podman flags for this host: ${flags[*]:-none}"

# 1. The default refuses plaintext.
out=$(run run --rm --no-healthcheck "$image" 2>&1) && rc=0 || rc=$?
refused() { [[ $rc -ne 0 && "$out" == *"no transport security"* ]]; }
check "default command refuses to serve without TLS (exit $rc)" refused

# 2. Serve, fill, probe.
pod volume create "$vol" >/dev/null
check "serve --insecure starts" serve "$name"
check "/readyz is 200" wait_ready "$name"
uid() { [[ "$(pod exec "$name" id -u)" == 10001 ]]; }
check "runs as takt (uid 10001)" uid
if client simulate --target "127.0.0.1:$grpc" --facilities 1 --days 1 --start $day >/tmp/$name.sim 2>&1; then
  ok "takt simulate --facilities 1 --days 1"
else
  bad "takt simulate"; tail -20 /tmp/$name.sim
fi
metrics=$(curl -sf "http://127.0.0.1:$admin/metrics" || true)
check "/metrics has takt_ series" grep -q '^takt_' <<<"$metrics"
check "HEALTHCHECK (bash /dev/tcp to /livez) passes" pod healthcheck run "$name"
dashboard() { curl -sf "http://127.0.0.1:$http/" | grep -qi '<html'; }
check "dashboard at / over HTTP" dashboard
check "Chart.js at /lib/chart.js/chart.min.js" curl -sf -o /dev/null "http://127.0.0.1:$http/lib/chart.js/chart.min.js"
before=$(kpis || true)
echo "     KPIs: $before"
check "KPIs answered" test -n "$before"

# 3. SIGTERM stops it cleanly.
pod stop -t 30 "$name" >/dev/null 2> >(grep -v "systemd connection" >&2)
code=$(pod inspect -f '{{.State.ExitCode}}' "$name")
check "podman stop (SIGTERM): exit code $code" test "$code" = 0
logged_stop() { pod logs "$name" 2>&1 | grep -q 'info takt: stopped'; }
check "its log says stopped" logged_stop

# 4. The data is on the volume: it verifies offline and a new container answers the same.
if run run --rm --no-healthcheck -v "$vol:/var/lib/takt" "$image" log verify --data-dir /var/lib/takt \
    >/tmp/$name.verify 2>&1; then
  ok "takt log verify on the volume"
else
  bad "takt log verify"; tail -20 /tmp/$name.verify
fi
pod rm "$name" >/dev/null 2> >(grep -v "systemd connection" >&2)
check "a new container on the same volume starts" serve "$name-2"
check "/readyz is 200 again" wait_ready "$name-2"
after=$(kpis || true)
check "same KPIs after restart" test "$before" = "$after"
pod stop -t 30 "$name-2" >/dev/null 2> >(grep -v "systemd connection" >&2)

rm -f /tmp/$name.*
echo "image-test: $passed passed, $failed failed"
((failed == 0))
