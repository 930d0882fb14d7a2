#!/usr/bin/env bash
# Benchmark sizes of zero or below (or not numbers) are refused by the
# command line with the option named, before anything runs: no crash, no
# hang (zero connections divided by zero, a negative scale threw
# vector::reserve).
# Usage: bench_cli_test.sh TAKT
set -uo pipefail
takt="$1"
fail=0
expect_refused() {
  local want="$1"; shift
  local out rc
  out=$(timeout 20 "$takt" "$@" 2>&1); rc=$?
  if [[ $rc -eq 0 || $rc -ge 124 ]]; then
    echo "FAIL: takt $* exited $rc (want a refusal)"; echo "$out" | tail -3; fail=1; return
  fi
  if ! grep -qF -- "$want" <<<"$out"; then
    echo "FAIL: takt $*: the message does not say '$want':"; echo "$out" | tail -3; fail=1; return
  fi
  echo "ok: takt $* -> $(head -1 <<<"$out")"
}
expect_refused "--streams" bench ingest --streams 0
expect_refused "--streams" bench ingest --streams 65
expect_refused "--facilities: must be a number above 0, not '-1'" bench ingest --facilities -1
expect_refused "--days: must be a number above 0, not '0'" bench ingest --days 0
expect_refused "--scale: must be a number above 0, not '-2'" bench log --scale -2
expect_refused "--payload-bytes: must be a number above 0" bench log --payload-bytes 0
expect_refused "--queries: must be a number above 0, not 'abc'" bench query --queries abc
expect_refused "--events: must be a number above 0" bench audit --events 0
expect_refused "--people: Value 0 not in range" bench staffing --people 0
expect_refused "--every-minutes: Value 0 not in range" bench quality --every-minutes 0
expect_refused "--postings-per-month: Value -5 not in range" bench budgets --postings-per-month -5
expect_refused "--time-limit: must be a number above 0" bench schedule --time-limit 0
exit $fail
