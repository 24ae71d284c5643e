#!/usr/bin/env bash
# The one command for the benchmarks: installs the anchors (mmdebstrap,
# gnuplot, …), builds, prepares the cached Debian minbase rootfs, runs the
# Google Benchmark micro-benchmarks, the side-by-side comparison with umoci,
# pigz and gzip (bench/compare.sh) and the thread-scaling plot (bench/plot.sh).
# Usage: scripts/bench.sh [OUT_DIR]   (default /tmp/ocipack-bench-<date>)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench
scripts/build.sh
out=${1:-/tmp/ocipack-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
./build/bench/ocipack_bench --benchmark_out="$out/micro.json" --benchmark_out_format=json | tee "$out/micro.txt"
bench/compare.sh --reps 5 --out "$out"
bench/plot.sh "$out"
echo "bench: results in $out (results.md, micro.txt, throughput.png)"
