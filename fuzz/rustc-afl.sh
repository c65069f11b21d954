#!/usr/bin/env bash
# The RUSTC_WRAPPER of scripts/fuzz.sh: $1 is rustc, the rest its arguments. The crates a
# client's bytes go through (serde, serde_json, the protocol and the session in
# server-mode, the targets) get AFL++'s edge coverage, as cargo-afl instruments (rustc's
# own SanitizerCoverage, stable) with overflow checks and debug assertions on; every
# other crate builds as it always does. The targets link Debian's AFL++ runtime.
set -euo pipefail
rustc="$1"
shift
crate=""
previous=""
for arg in "$@"; do
    if [ "$previous" = "--crate-name" ]; then
        crate="$arg"
    fi
    previous="$arg"
done
coverage=(
    -C passes=sancov-module
    -C llvm-args=-sanitizer-coverage-level=3
    -C llvm-args=-sanitizer-coverage-trace-pc-guard
    -C llvm-args=-sanitizer-coverage-prune-blocks=0
    -C llvm-args=-sanitizer-coverage-trace-compares
    -C debug-assertions
    -C overflow-checks
)
case "$crate" in
    serde | serde_core | serde_json | server_mode)
        exec "$rustc" "$@" "${coverage[@]}"
        ;;
    protocol_parse | session_input)
        exec "$rustc" "$@" "${coverage[@]}" -C link-arg="${AFL_RUNTIME:-/usr/lib/afl/afl-compiler-rt.o}"
        ;;
    *)
        exec "$rustc" "$@"
        ;;
esac
