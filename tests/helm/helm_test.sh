#!/usr/bin/env bash
# The helm chart test (ctest: helm_chart_test). No helm binary is packaged
# in Debian 12, so the chart is rendered by tests/helm/render.go (Go's
# text/template with sprig and helm's functions, on Debian's golang-go and
# golang-*-dev packages), then for each value set in tests/helm/values/:
#   - yamllint (helm/.yamllint) on values.yaml, Chart.yaml and the output;
#   - validate.mjs: every object against Kubernetes' schemas (npm
#     kubernetes-models, @kubernetes-models/prometheus-operator), unknown
#     kinds, apiVersions and fields refused;
#   - checks.mjs: what the chart promises (probes, grace, security context,
#     one replica and a claim for the embedded log, one owner per writer,
#     ...) and, given the takt binary, that takt serve accepts each
#     container's arguments, environment and takt.yaml;
#   - fail-*.yaml must not render, with the message on its
#     "# expect-error:" line.
# Value files name what they expect on "# expect-mode:" and "# expect-kinds:".
#
# Usage: tests/helm/helm_test.sh OUT_DIR [TAKT_BINARY]
# Needs go (golang-go, golang-github-masterminds-sprig-dev,
# golang-gopkg-yaml.v3-dev), yamllint, node and npm (scripts/install-deps.sh);
# runs `npm ci` in tests/helm when its node_modules is missing or stale.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
chart="$root/helm/takt"
out="${1:?usage: helm_test.sh OUT_DIR [TAKT_BINARY]}"
takt="${2:-}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
start=$SECONDS

for tool in go yamllint node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "helm_test: '$tool' is missing: run scripts/install-deps.sh" >&2
    exit 1
  fi
done
if [[ -n "$takt" && ! -x "$takt" ]]; then
  echo "helm_test: $takt is not an executable takt binary" >&2
  exit 1
fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*" >&2; }

# 1. The renderer, in GOPATH mode on Debian's Go packages (no module proxy).
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS="" GOCACHE="$out/gocache"
if ! nice -n 19 go build -o "$out/render" "$here/render.go"; then
  echo "helm_test: cannot build tests/helm/render.go (golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev)" >&2
  exit 1
fi

# 2. The schema packages (package-lock.json pins them); again when the lock changed.
stamp="$here/node_modules/.takt-package-lock.json"
if [[ ! -f "$stamp" ]] || ! cmp -s "$here/package-lock.json" "$stamp"; then
  echo "helm_test: npm ci in tests/helm"
  if ! npm ci --prefix "$here" --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >"$out/npm-ci.log" 2>&1; then
    cat "$out/npm-ci.log" >&2
    echo "helm_test: npm ci failed" >&2
    exit 1
  fi
  cp "$here/package-lock.json" "$stamp"
fi

yamllint_config="$root/helm/.yamllint"
# The image's TAKT_* variables, which the pods' own must override.
dockerfile="$root/deploy/container/Dockerfile"
if yamllint -s -c "$yamllint_config" "$chart/values.yaml" "$chart/Chart.yaml" >"$out/yamllint-chart.log" 2>&1; then
  ok "yamllint values.yaml Chart.yaml"
else
  cat "$out/yamllint-chart.log" >&2
  bad "yamllint values.yaml Chart.yaml"
fi

# header FILE KEY: the value of "# KEY: value" in a value file.
header() { sed -n "s/^# $2: *//p" "$1" | head -n 1; }

render() {  # render NAME RELEASE ARGS...: renders into $out/NAME.yaml, errors into $out/NAME.err
  local name="$1" release="$2"
  shift 2
  "$out/render" --name "$release" --namespace takt "$@" -o "$out/$name.yaml" --notes "$out/$name.NOTES.txt" \
    "$chart" 2>"$out/$name.err"
}

check_rendered() {  # check_rendered NAME MODE KINDS
  local name="$1" mode="$2" kinds="$3" file="$out/$1.yaml"
  if yamllint -s -c "$yamllint_config" "$file" >"$out/$name.yamllint.log" 2>&1; then
    ok "$name: yamllint"
  else
    cat "$out/$name.yamllint.log" >&2
    bad "$name: yamllint"
  fi
  if node "$here/validate.mjs" "$file" >"$out/$name.validate.log" 2>&1; then
    ok "$name: $(tail -n 1 "$out/$name.validate.log")"
  else
    cat "$out/$name.validate.log" >&2
    bad "$name: Kubernetes schemas"
  fi
  local args=(--mode "$mode" --kinds "$kinds")
  [[ -n "$takt" ]] && args+=(--takt "$takt")
  [[ -f "$dockerfile" ]] && args+=(--image-env "$dockerfile")
  if node "$here/checks.mjs" "${args[@]}" "$file" >"$out/$name.checks.log" 2>&1; then
    ok "$name: $mode $(tail -n 1 "$out/$name.checks.log")"
  else
    cat "$out/$name.checks.log" >&2
    bad "$name: chart checks"
  fi
  if [[ -s "$out/$name.NOTES.txt" ]]; then ok "$name: NOTES.txt"; else bad "$name: NOTES.txt is empty"; fi
}

# 3. The chart's own defaults, under a release named like the chart (fullname "takt").
if render defaults takt; then
  ok "defaults: renders"
  check_rendered defaults all-in-one "StatefulSet,Service,ConfigMap,NetworkPolicy,PodDisruptionBudget"
  if grep -q "^  name: takt$" "$out/defaults.yaml"; then ok "defaults: release takt names its objects takt"; else bad "defaults: object names"; fi
else
  cat "$out/defaults.err" >&2
  bad "defaults: does not render"
fi

# 4. Each value set.
for values in "$here"/values/*.yaml; do
  name="$(basename "$values" .yaml)"
  expected_error="$(header "$values" expect-error)"
  if [[ -n "$expected_error" ]]; then
    if render "$name" prod -f "$values"; then
      bad "$name: rendered, but should fail with: $expected_error"
    elif grep -qF -- "$expected_error" "$out/$name.err"; then
      ok "$name: refused ($(head -c 160 "$out/$name.err")...)"
    else
      cat "$out/$name.err" >&2
      bad "$name: failed without the message: $expected_error"
    fi
    continue
  fi
  mode="$(header "$values" expect-mode)"
  if [[ -z "$mode" ]]; then
    bad "$name: no '# expect-mode:' or '# expect-error:' line"
    continue
  fi
  if render "$name" prod -f "$values"; then
    ok "$name: renders"
    check_rendered "$name" "$mode" "$(header "$values" expect-kinds | tr -d ' ')"
  else
    cat "$out/$name.err" >&2
    bad "$name: does not render"
  fi
done

# 5. A broken template must be caught: a misspelt field in a copy of the chart.
broken="$out/broken-chart"
rm -rf "$broken"
cp -r "$chart" "$broken"
sed -i 's/readinessProbe:/readinesProbe:/' "$broken/templates/_helpers.tpl"
if "$out/render" --name prod --namespace takt -o "$out/broken.yaml" "$broken" 2>"$out/broken.err" \
  && ! node "$here/validate.mjs" "$out/broken.yaml" >"$out/broken.validate.log" 2>&1 \
  && grep -q "unknown field .*readinesProbe" "$out/broken.validate.log"; then
  ok "a misspelt field (readinesProbe) is refused"
else
  bad "a misspelt field (readinesProbe) was not refused"
fi
rm -rf "$broken"

echo "helm_test: $((SECONDS - start)) s; rendered manifests and logs in $out"
echo "helm_test: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
