#!/usr/bin/env bash
# layers_cpu.sh — how busy a multi-layer build keeps the cores: builds one
# big and one small layer (--layer BIG --layer SMALL) with each given ocipack
# binary, alternating binaries per repetition, and prints for every run the
# wall time, user and sys CPU and the CPU utilisation (user + sys) / wall,
# i.e. how many cores were busy on average, then the medians per binary.
# A build that splits its threads statically between the layers keeps only
# the big layer's share busy once the small layer is done; one that runs
# every layer in one shared arena keeps all cores busy until the end.
#
# Usage: bench/layers_cpu.sh [--reps N] [--threads N] [--idle-wait S] [--out DIR]
#                            BIG_DIR SMALL_DIR OCIPACK...
#   e.g. bench/layers_cpu.sh /var/cache/ocipack-bench/minbase /work/trees/test \
#          /work/baseline/ocipack build/ocipack
# The layouts go to DIR (default: a directory in /dev/shm, so that fsync and
# the disk stay out of the figure). Before each run the script waits up to S
# seconds (default 60) for the machine to be idle (lib_machine.sh), and it
# prints the CPU time everything else used during the run ("other"): with
# other load, and in particular with the kernel's autogroup scheduling, which
# gives each session an equal share whatever its thread count, every figure
# drops. Compare binaries within one run of this script, not across runs.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib_machine.sh
source "$script_dir/lib_machine.sh"

reps=5
threads=$(nproc)
idle_wait=60
out_base=""
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --idle-wait) idle_wait=$2; shift 2 ;;
    --out) out_base=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 3 ]] || { echo "usage: $0 [--reps N] [--threads N] [--idle-wait S] [--out DIR] BIG_DIR SMALL_DIR OCIPACK..." >&2; exit 2; }
big=$(realpath "$1")
small=$(realpath "$2")
shift 2
binaries=()
for bin in "$@"; do binaries+=("$(realpath "$bin")"); done

if [[ -z $out_base ]]; then
  if [[ -d /dev/shm ]]; then out_base=$(mktemp -d /dev/shm/layers-cpu.XXXXXX); else out_base=$(mktemp -d); fi
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch" "$out_base"' EXIT
# Warm the page cache, so the runs measure packing rather than the disk.
tar -C "$big" -cf - . >/dev/null 2>&1 || true
tar -C "$small" -cf - . >/dev/null 2>&1 || true

printf '%-36s %4s %8s %8s %8s %6s %8s\n' binary rep wall_s user_s sys_s cores other_s
for ((rep = 1; rep <= reps; rep++)); do
  for bin in "${binaries[@]}"; do
    rm -rf "$out_base/out"
    wait_idle "$idle_wait"
    b0=$(busy_ticks)
    /usr/bin/time -f '%e %U %S' -o "$scratch/time" \
      "$bin" build --layer "$big" --layer "$small" -o "$out_base/out" --created @0 -q --no-progress \
      --threads "$threads" 2>/dev/null
    b1=$(busy_ticks)
    read -r wall user sys <"$scratch/time"
    read -r cores other < <(awk -v w="$wall" -v u="$user" -v s="$sys" -v t="$((b1 - b0))" -v hz="$hz" \
      'BEGIN { o = t / hz - u - s; if (o < 0) o = 0; printf "%.2f %.2f\n", (w > 0) ? (u + s) / w : 0, o }')
    printf '%-36s %4d %8s %8s %8s %6s %8s\n' "$bin" "$rep" "$wall" "$user" "$sys" "$cores" "$other"
    echo "$bin $wall $cores" >>"$scratch/all"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-36s %12s %12s   (%d threads, median of %d)\n' binary wall_s cores "$threads" "$reps"
for bin in "${binaries[@]}"; do
  wall=$(awk -v b="$bin" '$1 == b { print $2 }' "$scratch/all" | median)
  cores=$(awk -v b="$bin" '$1 == b { print $3 }' "$scratch/all" | median)
  printf '%-36s %12s %12s\n' "$bin" "$wall" "$cores"
done
