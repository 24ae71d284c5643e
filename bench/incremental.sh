#!/usr/bin/env bash
# incremental.sh — the incremental-rebuild scenario of issue 15: how much a
# chunk cache (`ocipack build --cache DIR`) saves when a rootfs is rebuilt
# with a few changes, and how close a warm rebuild gets to its hashing bound.
#
# Usage: bench/incremental.sh [--rootfs DIR | --big] [--reps N] [--cost-reps N]
#            [--ocipack BIN] [--out DIR] [--scratch DIR] [--threads N]
#            [--compression-format F] [--deb FILE] [--idle-wait SECONDS] [--keep]
#        (also reached as bench/compare.sh --incremental ARGS...)
#
# Input: --rootfs DIR, or by default the Debian minbase tree of
# scripts/prepare_bench_rootfs.sh; --big uses the ≥ 2 GiB tree that
# scripts/prepare_bench_big_tree.sh generates once (deterministically, from
# minbase) and caches as /var/cache/ocipack-bench/big2g. The input is never
# modified: it is copied (cp -a) into a scratch dir (--scratch, default a new
# dir in /var/tmp, removed at the end unless --keep) and the steps edit that
# copy one after the other (the changes accumulate, as in an edit-build loop):
#
#   cold         the unchanged tree; its warm column is a cold build with an
#                EMPTY --cache (the cost of the cache; target ≤ 5 % slower)
#   no change    a rebuild of the unchanged tree
#   hostname     /etc/hostname rewritten
#   binary       4 KiB in the middle of one binary overwritten with fixed
#                bytes (dd conv=notrunc): the smallest single-link regular
#                file of ≥ 5 MB under usr/lib or usr/bin, else the largest one
#                there (minbase has none of 5 MB: its largest is ~3.8 MB)
#   package      a .deb extracted into the tree (dpkg-deb -x): --deb FILE, or
#                the first .deb by name of 100 KiB–2 MiB in
#                /var/cache/apt/archives, else one built with dpkg-deb --build
#                from a generated dir
#   delete       one file removed (usr/share/common-licenses/GPL-3, else the
#                first regular file under usr/share)
#
# For each step and each of --reps N repetitions (default 3; medians shown;
# the cold step, whose few-percent cost is the figure most easily lost in a
# shared host's drift, runs --cost-reps N, default the larger of 5 and
# --reps):
#   - a cold build without cache (--no-cache), the reference: its layer
#     digest is what the warm build must give;
#   - a warm build with --cache, the cache restored before every repetition
#     to its state before the step (a copy taken after the previous step), so
#     that every repetition does the same work: the chunks of the previous
#     state are in the cache, those of this step are not. The cold step's
#     empty cache is a new directory each repetition, never one just emptied
#     with rm -rf: on an ext4 without a journal (this project's guest) the
#     inode allocator skips inodes deleted in the last minutes
#     (recently_deleted(), which reads each one's inode), so thousands of
#     files created right after thousands were deleted cost seconds of
#     system time — a cost of the bench's own clean-up, not of a build (perf
#     showed it, with its buffer lookups, as 2.3 % of the samples of a 2 GB
#     cold build with --cache). The earlier repetitions' caches are removed
#     after the step (with --big they hold about 1 GB each meanwhile).
# Recorded: wall time, user+sys CPU, CPU used by other processes meanwhile,
# chunks reused (the --stats line `cache hits H (remote R), misses M, ...`:
# H of H+M), the layer bytes, the bytes the build added to the cache dir, and
# whether the warm layer digest equals the cold one (it must: the script
# exits 1 when it does not). The speed-up (and the cache's cost) is the
# median of the repetitions' own cold ÷ warm: the two builds of a repetition
# run back to back, so a shared host whose speed drifts from one repetition
# to the next (this project's 2-core guest drifts by ±15 %) moves both.
#
# The hashing bound of a warm rebuild (one that compresses nothing still has
# to hash everything), measured on the step's tree, page cache warm:
#   read  = wall of `tar --sort=name -C TREE -cf - . | cat >/dev/null` (walk,
#           stat, reads, tar headers; piped because GNU tar skips reading
#           when it writes to /dev/null itself)
#   shaT  = wall of one `openssl dgst -sha256` over that tar (kept in
#           /dev/shm): the diff_id, a serial pass
#   shaB  = wall of `openssl dgst -sha256` over the cold build's layer blob:
#           the blob digest, a serial pass
#   bound = read + shaT + shaT / threads + shaB
#           (shaT / threads: the chunk keys, a SHA-256 pass over the same
#           bytes, spread over the worker threads). A plain sum: it assumes
#           no overlap between the passes, so a pipelined build can go below
#           it. warm ÷ bound is printed per step (issue 15's target for a
#           one-file change: ≤ 1.3).
# Threads: --threads N is passed to ocipack and used in the bound (default
# nproc). Format: --compression-format (default gzip).
#
# Machine load: before each timed run the script waits up to --idle-wait
# seconds (default 60; 0 = do not wait) for the CPUs to be < 10 % busy
# (bench/lib_machine.sh); runs during which other processes used more than
# 10 % of wall × nproc CPU are counted as contended in the table. On a shared
# machine run it under `nice` and say so with the figures.
#
# Output: a markdown table on stdout; with --out DIR also results.md (the
# same), runs.csv and bound.csv (one row per run) in DIR.
# Requires: ocipack with --cache (without it the warm builds run WITHOUT a
# cache, the table says so: only the skeleton is exercised), jq, openssl,
# dpkg-deb, GNU tar, bc, /usr/bin/time.
# Exit status: 0; 1 if a warm layer differs from the cold one or a build
# fails; 2 on a usage error.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/.." && pwd)

reps=3
cost_reps=""
rootfs=""
big=0
ocipack_bin="$repo_dir/build/ocipack"
out_dir=""
scratch=""
threads=""
format=gzip
deb=""
idle_wait=60
keep=0

usage() { sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//'; }
die_usage() { echo "incremental.sh: $*" >&2; usage >&2; exit 2; }
need_value() { [[ $# -ge 2 && -n $2 ]] || die_usage "$1 wants a value"; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --reps) need_value "$@"; reps=$2; shift 2 ;;
        --cost-reps) need_value "$@"; cost_reps=$2; shift 2 ;;
        --rootfs) need_value "$@"; rootfs=$2; shift 2 ;;
        --big) big=1; shift ;;
        --ocipack) need_value "$@"; ocipack_bin=$(realpath -m -- "$2"); shift 2 ;;
        --out) need_value "$@"; out_dir=$2; shift 2 ;;
        --scratch) need_value "$@"; scratch=$2; shift 2 ;;
        --threads) need_value "$@"; threads=$2; shift 2 ;;
        --compression-format) need_value "$@"; format=$2; shift 2 ;;
        --deb) need_value "$@"; deb=$(realpath -- "$2"); shift 2 ;;
        --idle-wait) need_value "$@"; idle_wait=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die_usage "--reps wants a positive integer"
[[ -z $cost_reps || $cost_reps =~ ^[1-9][0-9]*$ ]] || die_usage "--cost-reps wants a positive integer"
[[ -n $cost_reps ]] || cost_reps=$(( reps > 5 ? reps : 5 ))
[[ -z $threads || $threads =~ ^[1-9][0-9]*$ ]] || die_usage "--threads wants a positive integer"
[[ $idle_wait =~ ^[0-9]+$ ]] || die_usage "--idle-wait wants seconds"
[[ -z $rootfs || $big == 0 ]] || die_usage "--rootfs and --big exclude each other"
[[ -z $deb || -f $deb ]] || die_usage "--deb: no such file: $deb"

log() { printf '[incremental] %s\n' "$*" >&2; }

for tool in jq openssl dpkg-deb tar bc du /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "incremental.sh: missing tool: $tool" >&2; exit 1; }
done
[[ -x $ocipack_bin ]] || { echo "incremental.sh: no ocipack binary at $ocipack_bin" >&2; exit 1; }

if [[ $big == 1 ]]; then
    rootfs=$("$repo_dir/scripts/prepare_bench_big_tree.sh" | tail -n1)
elif [[ -z $rootfs ]]; then
    rootfs=$("$repo_dir/scripts/prepare_bench_rootfs.sh" | tail -n1)
fi
rootfs=$(realpath -- "$rootfs")
[[ -d $rootfs ]] || { echo "incremental.sh: rootfs is not a directory: $rootfs" >&2; exit 1; }

nproc=$(nproc)
nthreads=${threads:-$nproc}
have_cache=0
[[ $("$ocipack_bin" build --help 2>&1 || true) == *--cache* ]] && have_cache=1
(( have_cache )) || log "this ocipack has no --cache: warm builds run WITHOUT a cache (skeleton run)"

# Private scratch space: the tree copy, layouts, the cache and its snapshot.
if [[ -z $scratch ]]; then
    scratch=$(mktemp -d /var/tmp/ocipack-incremental.XXXXXX)
else
    mkdir -p "$scratch"
    scratch=$(realpath -- "$scratch")
    [[ -z $(ls -A "$scratch") ]] || { echo "incremental.sh: --scratch dir is not empty: $scratch" >&2; exit 1; }
fi
shm_tar=$(mktemp /dev/shm/ocipack-incremental.XXXXXX)
cleanup() {
    rm -f "$shm_tar"
    if (( keep )); then log "scratch kept in $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
tree=$scratch/tree cache=$scratch/cache snap=$scratch/cache-before logs=$scratch/logs
mkdir -p "$logs"
csv=$scratch/runs.csv bound_csv=$scratch/bound.csv
echo "step,kind,rep,wall_s,cpu_s,other_cpu_s,hits,misses,chunks,layer_bytes,cache_bytes_added,layer_digest,status" >"$csv"
echo "step,rep,read_s,sha_tar_s,sha_blob_s,tar_bytes,blob_bytes,bound_s" >"$bound_csv"

log "copying $rootfs -> $tree"
cp -a "$rootfs" "$tree"
tar --sort=name -C "$tree" -cf - . | cat >/dev/null   # warm page cache
input_bytes=$(du -sb "$tree" | cut -f1)
input_entries=$(find "$tree" | wc -l)

# shellcheck source=bench/lib_machine.sh
source "$script_dir/lib_machine.sh"
unset OCIPACK_CACHE_DIR OCIPACK_CACHE_REMOTE

common_args=(--tag bench --stats --no-progress --compression-format "$format")
[[ -n $threads ]] && common_args+=(--threads "$threads")
cold_args=()
(( have_cache )) && cold_args=(--no-cache)

# ---------------------------------------------------------------- helpers
# timed LOG CMD...: runs CMD with stdout+stderr in LOG; sets t_wall, t_cpu,
# t_other (CPU seconds of other processes meanwhile) and t_code.
timed() {
    local log_file=$1 t0 t1 b0 b1 user sys
    shift
    sync
    wait_idle "$idle_wait"
    b0=$(busy_ticks)
    t0=$(date +%s.%N)
    set +e
    /usr/bin/time -f '%U %S' -o "$scratch/time.out" "$@" >"$log_file" 2>&1
    t_code=$?
    set -e
    t1=$(date +%s.%N)
    b1=$(busy_ticks)
    read -r user sys < <(tail -n1 "$scratch/time.out")
    t_wall=$(echo "$t1 - $t0" | bc -l)
    t_cpu=$(echo "$user + $sys" | bc -l)
    t_other=$(echo "o = ($b1 - $b0) / $hz - $t_cpu; if (o < 0) o = 0; o" | bc -l)
}

# layer_info LAYOUT: "DIGESTS BYTES" of the image's layers (digests joined
# by +, sizes added).
layer_info() {
    local m
    m=$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)
    jq -r '[(.layers | map(.digest) | join("+")), (.layers | map(.size) | add)] | join(" ")' "$1/blobs/sha256/$m"
}

# cache_counts LOG: "HITS,MISSES,CHUNKS" from the --stats output (NA when
# the line is absent).
cache_counts() {
    local re='s/.*cache hits \([0-9]*\) (remote [0-9]*), misses \([0-9]*\),.*/'
    local hits misses chunks
    hits=$(sed -n "${re}\\1/p" "$1" | head -n1)
    misses=$(sed -n "${re}\\2/p" "$1" | head -n1)
    chunks=$(sed -n 's/^chunks \([0-9]*\),.*/\1/p' "$1" | head -n1)
    echo "${hits:-NA},${misses:-NA},${chunks:-NA}"
}

dir_bytes() { if [[ -d $1 ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }

failures=0
declare -A cold_digest cold_blob

# build_cold STEP REP: a build without cache into $scratch/cold.
build_cold() {
    local step=$1 rep=$2 log_file=$logs/$1.cold.$2.log digest=NA bytes=NA status=ok
    rm -rf "$scratch/cold"
    timed "$log_file" "$ocipack_bin" build "$tree" -o "$scratch/cold" "${common_args[@]}" "${cold_args[@]}"
    if (( t_code != 0 )); then
        status="fail($t_code)"; failures=$((failures + 1))
        log "cold build failed ($step, rep $rep): $(tail -n2 "$log_file" | tr '\n' ' ')"
    else
        read -r digest bytes < <(layer_info "$scratch/cold")
        cold_digest[$step]=$digest
        cold_blob[$step]=$scratch/cold/blobs/sha256/${digest##*:}
    fi
    printf '%s,cold,%s,%.3f,%.2f,%.2f,%s,%s,0,%s,%s\n' "$step" "$rep" "$t_wall" "$t_cpu" "$t_other" \
        "$(cache_counts "$log_file")" "$bytes" "$digest" "$status" >>"$csv"
    log "$step cold rep $rep: $(printf '%.3f' "$t_wall") s  $status"
}

# build_warm STEP REP KIND: a build with --cache into $scratch/warm; the
# cache starts as $snap (KIND warm, in $cache) or empty (KIND cold-cache: a
# new $scratch/empty-cache.REP, see the header on why it is not $cache
# emptied).
build_warm() {
    local step=$1 rep=$2 kind=$3 log_file=$logs/$1.$3.$2.log digest=NA bytes=NA before after status=ok
    local -a cache_args=()
    local used=$cache
    rm -rf "$scratch/warm"
    if [[ $kind == warm ]]; then
        rm -rf "$cache"
        if [[ -d $snap ]]; then cp -a "$snap" "$cache"; else mkdir -p "$cache"; fi
    else
        used=$scratch/empty-cache.$rep
        mkdir "$used"
    fi
    (( have_cache )) && cache_args=(--cache "$used")
    before=$(dir_bytes "$used")
    timed "$log_file" "$ocipack_bin" build "$tree" -o "$scratch/warm" "${common_args[@]}" "${cache_args[@]}"
    after=$(dir_bytes "$used")
    if (( t_code != 0 )); then
        status="fail($t_code)"; failures=$((failures + 1))
        log "warm build failed ($step, rep $rep): $(tail -n2 "$log_file" | tr '\n' ' ')"
    else
        read -r digest bytes < <(layer_info "$scratch/warm")
        if [[ $digest != "${cold_digest[$step]:-}" ]]; then
            status="digest-differs"; failures=$((failures + 1))
            log "$step $kind rep $rep: layer $digest differs from the cold build's ${cold_digest[$step]:-none}"
        fi
    fi
    printf '%s,%s,%s,%.3f,%.2f,%.2f,%s,%s,%s,%s,%s\n' "$step" "$kind" "$rep" "$t_wall" "$t_cpu" "$t_other" \
        "$(cache_counts "$log_file")" "$bytes" "$((after - before))" "$digest" "$status" >>"$csv"
    log "$step $kind rep $rep: $(printf '%.3f' "$t_wall") s  hits,misses,chunks $(cache_counts "$log_file")  $status"
}

# measure_bound STEP REP: the hashing bound on the current tree (see the
# header); needs the step's cold layout.
measure_bound() {
    local step=$1 rep=$2 read_s sha_tar sha_blob tar_bytes blob_bytes
    [[ -n ${cold_blob[$step]:-} && -f ${cold_blob[$step]} ]] || return 0
    # shellcheck disable=SC2016
    timed "$logs/$step.read.$rep.log" bash -c 'tar --sort=name -C "$1" -cf - . | cat >/dev/null' _ "$tree"
    read_s=$t_wall
    tar --sort=name -C "$tree" -cf "$shm_tar" .
    timed "$logs/$step.shatar.$rep.log" openssl dgst -sha256 "$shm_tar"
    sha_tar=$t_wall
    timed "$logs/$step.shablob.$rep.log" openssl dgst -sha256 "${cold_blob[$step]}"
    sha_blob=$t_wall
    tar_bytes=$(stat -c %s "$shm_tar")
    blob_bytes=$(stat -c %s "${cold_blob[$step]}")
    : >"$shm_tar"
    printf '%s,%s,%.3f,%.3f,%.3f,%s,%s,%.3f\n' "$step" "$rep" "$read_s" "$sha_tar" "$sha_blob" "$tar_bytes" "$blob_bytes" \
        "$(echo "$read_s + $sha_tar + $sha_tar / $nthreads + $sha_blob" | bc -l)" >>"$bound_csv"
}

# ---------------------------------------------------------------- the edits
# keystream BYTES: fixed pseudo-random bytes (AES-CTR of zeros, zero key).
keystream() {
    # head closes the pipe early: openssl's write error is expected.
    (set +o pipefail; openssl enc -aes-128-ctr -K 00000000000000000000000000000000 \
        -iv 00000000000000000000000000000000 -nosalt </dev/zero 2>/dev/null | head -c "$1")
}

# pick_binary: the path (relative to the tree) of the binary to change: an
# ELF file with one link, the smallest of >= 5 MB, else the largest.
pick_binary() {
    local list size path
    list=$(find "$tree/usr/lib" "$tree/usr/bin" -type f -links 1 -size +64k -printf '%s %p\n' 2>/dev/null | sort -n)
    while read -r size path; do
        path=${path#"$tree"/}
        [[ $(head -c 4 "$tree/$path" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] || continue
        echo "$path"
        return
    done < <(awk '$1 >= 5000000' <<<"$list"; tac <<<"$list")
}

# pick_deb: the .deb to extract (made in the scratch dir when none is found).
pick_deb() {
    if [[ -n $deb ]]; then echo "$deb"; return; fi
    local found
    found=$(find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -size +100k -size -2048k 2>/dev/null | LC_ALL=C sort | head -n1)
    if [[ -n $found ]]; then echo "$found"; return; fi
    local g=$scratch/gen-pkg
    mkdir -p "$g/DEBIAN" "$g/usr/share/ocipack-bench-pkg" "$g/usr/bin"
    printf 'Package: ocipack-bench-pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: bench <bench@example.com>\nDescription: generated package for bench/incremental.sh\n' >"$g/DEBIAN/control"
    seq 1 60000 >"$g/usr/share/ocipack-bench-pkg/numbers.txt"
    keystream 300000 >"$g/usr/bin/ocipack-bench-tool"
    chmod 755 "$g/usr/bin/ocipack-bench-tool"
    dpkg-deb --root-owner-group --build "$g" "$scratch/ocipack-bench-pkg.deb" >/dev/null
    echo "$scratch/ocipack-bench-pkg.deb"
}

# apply_edit STEP: changes the tree for STEP; sets edit_note.
apply_edit() {
    local f size mid d
    case $1 in
        cold) edit_note="unchanged tree; warm = cold build with an empty --cache" ;;
        nochange) edit_note="rebuild, nothing changed" ;;
        hostname)
            printf 'ocipack-incremental-bench\n' >"$tree/etc/hostname"
            edit_note="etc/hostname rewritten" ;;
        binary)
            f=$(pick_binary)
            size=$(stat -c %s "$tree/$f")
            mid=$((size / 2 / 4096))
            keystream 4096 | dd of="$tree/$f" bs=4096 seek="$mid" conv=notrunc status=none
            edit_note="4 KiB at offset $((mid * 4096)) of $f ($size bytes)" ;;
        package)
            d=$(pick_deb)
            dpkg-deb -x "$d" "$tree"
            edit_note="$(basename "$d") extracted ($(dpkg-deb -c "$d" | wc -l) entries, $(stat -c %s "$d") bytes .deb)" ;;
        delete)
            f=usr/share/common-licenses/GPL-3
            [[ -f $tree/$f ]] || f=$(cd "$tree" && find usr/share -type f | LC_ALL=C sort | head -n1)
            rm -f "$tree/$f"
            edit_note="$f deleted" ;;
    esac
    tar --sort=name -C "$tree" -cf - . | cat >/dev/null   # the change, in page cache
}

# ---------------------------------------------------------------- the steps
steps=(cold nochange hostname binary package delete)
declare -A note
for step in "${steps[@]}"; do
    apply_edit "$step"
    note[$step]=$edit_note
    log "step $step: $edit_note"
    kind=warm step_reps=$reps
    [[ $step == cold ]] && kind="cold-cache" step_reps=$cost_reps
    for ((rep = 1; rep <= step_reps; rep++)); do
        build_cold "$step" "$rep"
        build_warm "$step" "$rep" "$kind"
        measure_bound "$step" "$rep"
    done
    # The cache after the last repetition: the previous state plus this
    # step's chunks, the starting point of the next step.
    last_cache=$cache
    [[ $kind == cold-cache ]] && last_cache=$scratch/empty-cache.$step_reps
    rm -rf "$snap"
    mv "$last_cache" "$snap"
    rm -rf "$scratch"/empty-cache.*
done

# ---------------------------------------------------------------- the table
median_stdin() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# col STEP KIND COLUMN: the values of one column for one step and kind.
col() { awk -F, -v s="$1" -v k="$2" -v c="$3" 'NR > 1 && $1 == s && $2 == k { print $c }' "$csv"; }
med() { col "$@" | median_stdin; }
last() { col "$@" | tail -n1; }
bound_med() { awk -F, -v s="$1" -v c="$2" 'NR > 1 && $1 == s { print $c }' "$bound_csv" | median_stdin; }
fmt() { [[ $1 == NA || -z $1 ]] && echo "—" || LC_ALL=C printf "%.${2}f" "$1"; }
ratio() { if [[ $1 == NA || $2 == NA || -z $1 || -z $2 ]]; then echo NA; else echo "$1 / $2" | bc -l; fi; }
contended() { awk -F, -v s="$1" -v n="$nproc" 'NR > 1 && $1 == s && $6 > 0.1 * $4 * n' "$csv" | wc -l; }

# paired_ratio STEP KIND: the median over repetitions of warm ÷ cold of
# the same repetition (the two builds run back to back, so a machine whose
# speed drifts between repetitions — a shared host — moves both alike).
# A third argument picks the column (default 4, the wall; 5 is the CPU).
paired_ratio() {
    local c=${3:-4}
    paste -d' ' <(col "$1" cold "$c") <(col "$1" "$2" "$c") | awk '$1 > 0 { print $2 / $1 }' | median_stdin
}

# reuse STEP KIND: "H of N (P %)" from the last repetition.
reuse() {
    local h m
    h=$(last "$1" "$2" 7) m=$(last "$1" "$2" 8)
    if [[ $h == NA || $m == NA || -z $h ]]; then echo "—"; return; fi
    if (( h + m == 0 )); then echo "0 of 0"; return; fi
    echo "$h of $((h + m)) ($(fmt "$(echo "100 * $h / ($h + $m)" | bc -l)" 1) %)"
}
# same_digest STEP KIND: yes when every build of the step gave one digest.
same_digest() {
    local n
    n=$(awk -F, -v s="$1" 'NR > 1 && $1 == s { print $12 }' "$csv" | sort -u | wc -l)
    if [[ $n == 1 ]] && ! awk -F, -v s="$1" 'NR > 1 && $1 == s && $13 != "ok" { bad = 1 } END { exit !bad }' "$csv"; then
        echo yes
    else
        echo NO
    fi
}

md=$scratch/results.md
{
    echo "# ocipack incremental rebuilds — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "- machine: $nproc × $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r); niceness $(ps -o ni= $$ | tr -d ' ')"
    echo "- ocipack: $("$ocipack_bin" --version 2>/dev/null | head -n1)$( (( have_cache )) || echo ' — NO --cache: warm builds ran without a cache (skeleton run)')"
    echo "- tree: \`$rootfs\` (a private copy) — $input_entries entries, du -sb $input_bytes bytes ($(fmt "$(echo "$input_bytes / 1048576" | bc -l)" 1) MiB)"
    echo "- $reps repetitions per build ($cost_reps for the cold step), medians, --compression-format $format, $nthreads threads, page cache warm, sync between runs (not timed)"
    echo "- hashing bound = read + shaT + shaT ÷ $nthreads + shaB (tar walk+read, SHA-256 of the tar, of the chunks in parallel, of the blob; see bench/incremental.sh)"
    echo
    echo "| step | change | cold s | warm s | cold ÷ warm | chunks reused | layer bytes | cache bytes added | layer digest, warm = cold | bound s | warm ÷ bound |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    for step in "${steps[@]}"; do
        kind=warm
        [[ $step == cold ]] && kind="cold-cache"
        cold=$(med "$step" cold 4) warm=$(med "$step" "$kind" 4) bound=$(bound_med "$step" 8)
        paired=$(paired_ratio "$step" "$kind")
        if [[ $step == cold ]]; then
            speed="cost $(fmt "$(echo "100 * ($paired - 1)" | bc -l 2>/dev/null || echo NA)" 1) % (CPU $(fmt "$(echo "100 * ($(paired_ratio "$step" "$kind" 5) - 1)" | bc -l 2>/dev/null || echo NA)" 1) %)"
        else
            speed="$(fmt "$(echo "1 / $paired" | bc -l 2>/dev/null || echo NA)" 2)×"
        fi
        c=$(contended "$step")
        digest=$(last "$step" cold 12)
        echo "| $step$( ((c > 0)) && echo " ($c runs contended)") | ${note[$step]} | $(fmt "$cold" 3) | $(fmt "$warm" 3) | $speed | $(reuse "$step" "$kind") | $(last "$step" "$kind" 10) | $(med "$step" "$kind" 11) | ${digest:7:12}…: $(same_digest "$step") | $(fmt "$bound" 3) | $(fmt "$(ratio "$warm" "$bound")" 2) |"
    done
    echo
    echo "Bound parts (median s): $(for step in "${steps[@]}"; do printf '%s read %s, shaT %s, shaB %s; ' "$step" "$(fmt "$(bound_med "$step" 3)" 3)" "$(fmt "$(bound_med "$step" 4)" 3)" "$(fmt "$(bound_med "$step" 5)" 3)"; done)"
    echo
    echo "Targets (issue 15, 2 cores): cache cost on a cold build ≤ 5 %; one-file change ≥ 4× faster than cold on minbase, ≥ 5× on the 2 GB tree, within 1.3× of the bound, ≥ 95 % of chunks reused."
    echo "cold ÷ warm and the cost: the median over repetitions of each repetition's cold ÷ warm (warm ÷ cold for the cost; CPU: the same for user + sys seconds), the two run back to back; the time columns are medians of their own."
    echo "Cold: a build with --no-cache. Warm: --cache, restored before each repetition to its state before the step. Cache bytes added: growth of the cache dir (du -sb) during the build."
    echo "Contended: other processes used more than 10 % of wall × nproc CPU during a run. Raw runs: runs.csv, bound.csv."
} >"$md"

cat "$md"
if [[ -n $out_dir ]]; then
    mkdir -p "$out_dir"
    cp "$md" "$csv" "$bound_csv" "$out_dir"/
    log "results in $out_dir"
fi
if (( failures > 0 )); then
    log "$failures failed builds or digest mismatches"
    exit 1
fi
