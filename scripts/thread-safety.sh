#!/usr/bin/env bash
# Clang's thread-safety analysis (-Wthread-safety -Werror) over every
# translation unit whose code is annotated (ABSL_GUARDED_BY and friends, in
# the unit or its own header) or instantiates the annotated aggregate store.
# Syntax only: GCC builds and links; clang checks the locking. Needs a
# configured build (compile_commands.json) with generated protos.
# Usage: ./scripts/thread-safety.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
command -v clang++ >/dev/null || { echo "thread-safety: clang++ missing (scripts/install-deps.sh)"; exit 2; }
annotated='ABSL_GUARDED_BY|ABSL_PT_GUARDED_BY|ABSL_EXCLUSIVE_LOCKS_REQUIRED|ABSL_SHARED_LOCKS_REQUIRED|ABSL_LOCKS_EXCLUDED'
units=()
while IFS= read -r cc; do
  h="${cc%.cc}.h"
  if grep -Eq "$annotated" "$cc" || { [[ -f $h ]] && grep -Eq "$annotated" "$h"; } ||
     grep -q 'libs/es/aggregate_store.h\|libs/model/model_store.h' "$cc" ||
     { [[ -f $h ]] && grep -q 'libs/es/aggregate_store.h' "$h"; }; then
    units+=("$cc")
  fi
done < <(git ls-files 'libs/*.cc' 'services/*.cc' 'bench/*.cc' | grep -v '_test.cc$')
echo "thread-safety: ${#units[@]} translation units"
# Each unit's compile command from the GCC build, with clang instead.
python3 - "$build/compile_commands.json" "${units[@]}" <<'PY' | xargs -0 -P "$(nproc)" -n 1 bash -c
import json, os, shlex, sys
db = {os.path.realpath(e["file"]): e for e in json.load(open(sys.argv[1]))}
for unit in sys.argv[2:]:
    e = db.get(os.path.realpath(unit))
    if e is None:
        sys.exit(f"thread-safety: {unit} is not in {sys.argv[1]}")
    args = shlex.split(e["command"])
    args.pop(0)  # the compiler (or its launcher)
    if args and not args[0].startswith("-"):
        args.pop(0)
    keep, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in ("-o", "-MT", "-MF", "-MQ"):
            skip = True
        elif a in ("-c", "-MD", "-MMD", "-Werror", "-Wall", "-Wextra", "-Wpedantic"):
            pass
        else:
            keep.append(a)
    cmd = ["clang++", "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
           "-Wno-unknown-warning-option"] + keep
    sys.stdout.write("cd " + shlex.quote(e["directory"]) + " && " + shlex.join(cmd) + "\0")
PY
echo "thread-safety: OK"
