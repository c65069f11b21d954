#!/usr/bin/env bash
# Coverage-guided fuzzing of the protocol with AFL++ (Debian's afl++) on stable Rust.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the targets of fuzz/ (protocol_parse: a text message through the parser, in
# fuzz/protocol; session_input: a conversation through a session, in fuzz/session) with AFL++'s edge coverage
# (fuzz/rustc-afl.sh), replays the crashes kept in fuzz/regressions/TARGET/, then runs
# afl-fuzz on each target for SECONDS (60 by default), seeded with the client messages of
# docs/protocol.md and the kept inputs. The corpus grows in fuzz/corpus/TARGET/ and the
# next run goes on from it, so `scripts/fuzz.sh 3600` fuzzes an hour more per target.
# Exits 1 when a crash is found; its inputs are copied to fuzz/artifacts/TARGET/ (keep
# them in fuzz/regressions/TARGET/ once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(protocol_parse session_input)
fi

# AFL++ and its runtime (afl-compiler-rt.o), which the targets link.
if ! command -v afl-fuzz >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "Installing: afl++"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends afl++
fi

# The instrumented build has its own target directory. A first build starts from the
# workspace's release build when there is one (the dependencies are the same builds);
# the instrumented crates' fingerprints are dropped so that they are compiled again.
if [ ! -d fuzz/target/release ] && [ -d target/release ]; then
  mkdir -p fuzz/target
  cp -a --reflink=auto target/release fuzz/target/release
  rm -rf fuzz/target/release/.fingerprint/hounsfield-{protocol,vocabulary,server}-*
fi
started=$(date +%s)
RUSTC_WRAPPER="$PWD/fuzz/rustc-afl.sh" \
  cargo build --release --locked --manifest-path fuzz/Cargo.toml --workspace --bins
echo "fuzz: built in $(($(date +%s) - started)) s"

export AFL_NO_UI=1 AFL_AUTORESUME=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

found=0
for target in "${targets[@]}"; do
  binary="fuzz/target/release/$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz: no target $target (fuzz/protocol, fuzz/session)" >&2
    exit 2
  fi

  # The crashes found before must stay fixed.
  for kept in fuzz/regressions/"$target"/*; do
    [ -f "$kept" ] || continue
    if ! "$binary" <"$kept" >/dev/null 2>&1; then
      echo "fuzz: $target crashes again on $kept" >&2
      found=1
    fi
  done

  # Seeds: the client's messages of docs/protocol.md, each alone and as one conversation
  # (with pauses past the 150 ms after which a final still is due), and the kept inputs.
  seeds="fuzz/target/seeds/$target"
  rm -rf "$seeds"
  mkdir -p "$seeds"
  n=0
  while IFS= read -r message; do
    n=$((n + 1))
    printf '%s\n' "$message" >"$seeds/doc-$n"
  done < <(sed -n 's/^→ //p' docs/protocol.md)
  sed -n 's/^→ //p' docs/protocol.md | awk '{ print; if (NR % 4 == 0) print "wait 160" }' \
    >"$seeds/conversation"
  if [ -d "fuzz/regressions/$target" ]; then
    cp fuzz/regressions/"$target"/* "$seeds"/ 2>/dev/null || true
  fi

  out="fuzz/corpus/$target"
  mkdir -p "$out"
  # A run goes on from the last one's corpus; its crashes were reported then.
  rm -f "$out"/default/crashes/id:*
  echo "fuzz: $target for $seconds s"
  afl-fuzz -i "$seeds" -o "$out" -V "$seconds" -- "$binary" >"$out/afl.log" 2>&1 || {
    tail -20 "$out/afl.log" >&2
    echo "fuzz: afl-fuzz failed for $target (log: $out/afl.log)" >&2
    exit 2
  }
  grep -E '^(execs_done|execs_per_sec|corpus_count|edges_found|saved_crashes|saved_hangs) ' \
    "$out/default/fuzzer_stats" | sed "s/^/  /"
  crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
  if [ "$crashes" -gt 0 ]; then
    mkdir -p "fuzz/artifacts/$target"
    cp "$out"/default/crashes/id:* "fuzz/artifacts/$target/"
    echo "fuzz: $target: $crashes crashing inputs, copied to fuzz/artifacts/$target/" >&2
    found=1
  fi
done
exit "$found"
