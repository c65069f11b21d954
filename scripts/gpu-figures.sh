#!/usr/bin/env bash
# The GPU figures of docs/performance.md in one short run (about four minutes):
# full and interactive frames of ct-head-neck (with the light's shadows and occlusion, and
# the cinematic path tracer's convergence) and the built-in phantom at 1080p (both
# dispatches), then 1, 4, 8 and 16 sessions dragging ct-head-neck at 1080p over H.264,
# and eight at 1024×768 to compare with earlier figures.
#
#   scripts/gpu-figures.sh BENCH SERIES_FOLDER OUTPUT_FOLDER
#
# BENCH is a built `hounsfield-bench`; SERIES_FOLDER holds ct-head-neck (from the
# shared data); every figure is printed and kept as JSON in OUTPUT_FOLDER.
set -uo pipefail

bench=${1:?usage: gpu-figures.sh BENCH SERIES_FOLDER OUTPUT_FOLDER}
series=${2:?the ct-head-neck folder}
out=${3:?an output folder}
mkdir -p "$out"

run() {
    local name=$1
    shift
    echo "== $name: $*"
    "$bench" "$@" --json >"$out/$name.json" 2>"$out/$name.log"
    local status=$?
    tail -c 3000 "$out/$name.json"
    echo
    [ $status -eq 0 ] || { echo "($name ended with status $status)"; tail -5 "$out/$name.log"; }
}

{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true; nproc; } \
    | tee "$out/machine.txt"

run render-ct-1080p render "$series" --size 1920x1080 --frames 20 --lighting
run cinematic-ct-1080p render "$series" --size 1920x1080 --frames 10 --cinematic --reference-samples 4096
run render-phantom-1080p render --size 1920x1080 --frames 20
run render-ct-768p render "$series" --size 1024x768 --frames 20
for sessions in 1 4 8 16; do
    run "stream-ct-1080p-$sessions" stream "$series" --sessions "$sessions" \
        --size 1920x1080 --codec h264 --seconds 8
done
run stream-ct-768p-8 stream "$series" --sessions 8 --size 1024x768 --codec h264 --seconds 8
