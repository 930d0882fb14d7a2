#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer on all of Takt's code (build/fuzz), then runs
# each target for SECONDS (default 300: five CPU-minutes) from its seed
# corpus fuzz/corpus/<target>; new inputs go to build/fuzz/corpus/<target>
# (copy the interesting ones into fuzz/corpus: CI replays that corpus as a
# regression test with the default compiler). Exits 1 if any target crashes
# or a sanitizer reports; the crashing input is left in build/fuzz/.
# Usage: ./scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(envelope enterprise_yaml observations budget_yaml scope jwt http_request); fi
./scripts/install-deps.sh
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1  # share entries with clones in other folders
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DCMAKE_C_FLAGS="$san -fsanitize=fuzzer-no-link" -DCMAKE_CXX_FLAGS="$san -fsanitize=fuzzer-no-link" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" -DTAKT_WERROR=OFF -DTAKT_FUZZ=ON >/dev/null
cmake --build build/fuzz --target "${targets[@]/%/_fuzz}"
failed=0
for t in "${targets[@]}"; do
  mkdir -p "build/fuzz/corpus/$t"
  echo "fuzz: $t for ${seconds}s"
  if ! (cd build/fuzz && UBSAN_OPTIONS=print_stacktrace=1 ./fuzz/"${t}_fuzz" -max_total_time="$seconds" \
        -print_final_stats=1 -rss_limit_mb=4096 "corpus/$t" "../../fuzz/corpus/$t") >"build/fuzz/$t.log" 2>&1; then
    echo "fuzz: $t FAILED (build/fuzz/$t.log)"
    failed=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY" "build/fuzz/$t.log" | sed "s/^/  $t: /" || true
done
exit "$failed"
