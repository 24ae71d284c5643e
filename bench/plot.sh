#!/usr/bin/env bash
# plot.sh — throughput of ocipack by thread count, next to the anchors.
#
# Usage: bench/plot.sh OUT_DIR [--ocipack BIN] [--rootfs DIR] [--max-threads N] [--reps N]
#
# OUT_DIR is a bench/compare.sh output directory (its runs.csv gives the
# anchors' median wall times and its work/input.tar the input size). For
# threads = 1..N (default 2 × nproc, to show what oversubscription does),
# it times `ocipack build` with default settings and with --fast (median of
# --reps runs, default 3), writes OUT_DIR/threads.csv and draws
# OUT_DIR/throughput.png with gnuplot: input MB/s against threads, with
# horizontal lines for umoci, tar | pigz -6, tar | gzip -6 and the CPU limit.
set -euo pipefail
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/.." && pwd)

out=${1:?usage: bench/plot.sh OUT_DIR [--ocipack BIN] [--rootfs DIR] [--max-threads N] [--reps N]}
shift
ocipack="$repo_dir/build/ocipack"
rootfs=""
max_threads=$(( 2 * $(nproc) ))
reps=3
while (($#)); do
    case $1 in
        --ocipack) ocipack=$2; shift 2 ;;
        --rootfs) rootfs=$2; shift 2 ;;
        --max-threads) max_threads=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        *) echo "plot.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ -f $out/runs.csv && -f $out/work/input.tar ]] || { echo "plot.sh: $out is not a compare.sh output dir" >&2; exit 2; }
[[ -n $rootfs ]] || rootfs=$("$repo_dir/scripts/prepare_bench_rootfs.sh" 2>/dev/null | tail -1)
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 2; }

tar_bytes=$(stat -c %s "$out/work/input.tar")
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
anchor() { awk -F, -v t="$1" 'NR > 1 && $2 == t && $8 == "ok" { print $3 }' "$out/runs.csv" | median; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "threads,mode,median_wall_s,mb_per_s" >"$out/threads.csv"
for mode in default fast; do
    extra=()
    [[ $mode == fast ]] && extra=(--fast)
    for ((t = 1; t <= max_threads; t++)); do
        walls=""
        for ((r = 0; r < reps; r++)); do
            rm -rf "$work/L"
            start=$(date +%s.%N)
            "$ocipack" build "$rootfs" -o "$work/L" --threads "$t" -q "${extra[@]}"
            end=$(date +%s.%N)
            walls+="$(echo "$end - $start" | bc -l)"$'\n'
        done
        med=$(printf '%s' "$walls" | median)
        mbps=$(echo "$tar_bytes / $med / 1000000" | bc -l)
        printf '%d,%s,%.3f,%.1f\n' "$t" "$mode" "$med" "$mbps" | tee -a "$out/threads.csv"
    done
done

line() {  # name → MB/s of the anchor, or NA
    local w
    w=$(anchor "$1")
    [[ $w == NA ]] && echo NA || echo "$tar_bytes / $w / 1000000" | bc -l
}
umoci=$(line umoci); pigz=$(line pigz); gzip=$(line gzip)
limit_wall=$(grep -E '^\| CPU limit' "$out/results.md" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
limit=NA
[[ -n $limit_wall && $limit_wall != NA ]] && limit=$(echo "$tar_bytes / $limit_wall / 1000000" | bc -l)

{
    echo "set terminal pngcairo size 900,560 font ',11'"
    echo "set output '$out/throughput.png'"
    echo "set title 'ocipack on a Debian minbase rootfs ($(printf '%.0f' "$(echo "$tar_bytes / 1000000" | bc -l)") MB tar), $(nproc) cores'"
    echo "set xlabel 'threads'; set ylabel 'input MB/s (higher is better)'"
    echo "set key below; set grid; set xrange [0.5:$max_threads.5]; set yrange [0:*]; set xtics 1"
    echo "set datafile separator ','"
    plots=("'$out/threads.csv' using 1:(stringcolumn(2) eq 'default' ? \$4 : 1/0) with linespoints lw 2 title 'ocipack (libdeflate -6)'"
           "'$out/threads.csv' using 1:(stringcolumn(2) eq 'fast' ? \$4 : 1/0) with linespoints lw 2 title 'ocipack --fast (ISA-L 1)'")
    [[ $limit != NA ]] && plots+=("$limit with lines dt 2 lw 2 title 'CPU limit (libdeflate -6, all cores)'")
    [[ $pigz != NA ]] && plots+=("$pigz with lines lw 2 title 'tar | pigz -6'")
    [[ $gzip != NA ]] && plots+=("$gzip with lines lw 2 title 'tar | gzip -6'")
    [[ $umoci != NA ]] && plots+=("$umoci with lines lw 2 title 'umoci (Yocto sequence)'")
    (IFS=,; echo "plot ${plots[*]}")
} >"$out/throughput.gp"
gnuplot "$out/throughput.gp"
echo "plot.sh: $out/throughput.png"
