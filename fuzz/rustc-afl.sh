#!/usr/bin/env bash
# The RUSTC_WRAPPER of scripts/fuzz.sh: $1 is rustc, the rest its arguments. The protocol,
# its vocabulary and the server (the session) and the targets get AFL++'s edge coverage as
# cargo-afl instruments on stable (rustc's own SanitizerCoverage), with overflow checks and
# debug assertions on; serde_json's parser is generic, so it is compiled, instrumented,
# into the protocol. Every other crate builds as it always does (scripts/fuzz.sh starts from the
# workspace's release build), and the targets link Debian's AFL++ runtime. Cargo does not
# see this script: after changing which crates it instruments, remove fuzz/target.
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
    hounsfield_protocol | hounsfield_vocabulary | hounsfield_server)
        exec "$rustc" "$@" "${coverage[@]}"
        ;;
    protocol_parse | session_input)
        exec "$rustc" "$@" "${coverage[@]}" -C link-arg="${AFL_RUNTIME:-/usr/lib/afl/afl-compiler-rt.o}"
        ;;
    *)
        exec "$rustc" "$@"
        ;;
esac
