#!/usr/bin/env bash
# compare.sh — end-to-end comparison of ocipack with the tools it replaces.
#
# Usage: bench/compare.sh [--reps N] [--rootfs DIR] [--ocipack BIN] [--out DIR]
#                         [--idle-wait SECONDS] [--skip-verify]
#        bench/compare.sh --incremental [ARGS...]   (runs bench/incremental.sh)
#
# --incremental (first argument): the incremental-rebuild scenario with the
# chunk cache instead (cold, no change, one small file, one binary, a package,
# a deleted file); the rest of the arguments go to bench/incremental.sh, whose
# header documents them.
#
# On one rootfs (default: the cached Debian minbase tree that
# scripts/prepare_bench_rootfs.sh makes), it times, with alternating
# repetitions (rep 1 runs every tool, then rep 2 runs every tool, ...):
#
#   ocipack          ocipack build ROOTFS -o L --tag bench           (defaults)
#   ocipack --fast   the same with --fast (ISA-L level 1)
#   ocipack -t1      the same with --threads 1
#   ocipack zstd     the same with --compression-format zstd (level 3), and
#                    with --threads 1 too
#   ocipack chunked  the same with --compression-format zstd:chunked, and
#                    with --threads 1 too
#   umoci (yocto)    the sequence of meta-virtualization's image-oci-umoci.inc:
#                    init, new, unpack --rootless, cp -a --no-preserve=ownership
#                    ROOTFS into the bundle, repack, then the config calls the
#                    class always makes (created label, architecture,
#                    entrypoint, author). Bundle removal and the layout
#                    tarballs are not timed (ocipack writes neither).
#   tar|pigz -6      tar --sort=name | pigz -6 -p NPROC, sha256 of the tar
#                    (diff_id) and of the .tar.gz (digest), streamed
#   tar|gzip -6      the same with gzip -6 (what sloci-image does)
#   CPU limit        libdeflate-gzip -6 (one thread) on a pre-made tar file in
#                    page cache, plus sha256sum of that tar and of the output;
#                    its wall time divided by nproc is the wall time a perfectly
#                    parallel libdeflate-based packer could reach (it ignores
#                    the cost of reading the rootfs and writing tar headers).
#   tar|zstd -3 -T   tar --sort=name | zstd -3 -T NPROC, both sha256s streamed
#   zstd CPU limit   single-thread zstd -3 on the pre-made tar + 2×sha256sum,
#                    ÷ nproc: the zstd line (its output size is the reference
#                    for the zstd layer's size).
#   zstd:chunked CPU limit
#                    the least any zstd:chunked producer does: single-thread
#                    `zstd -3 -c` of every regular file (a frame of its own
#                    per file), sha256sum of every file (the TOC's digests), of
#                    the tar (diff_id) and of the output (digest), ÷ nproc.
#                    It leaves out the header frames, TOC, tar-split and
#                    content-defined chunking, so no producer can reach it.
#
# Wall time comes from `date +%s.%N`; max RSS, user and sys CPU from GNU time
# (max RSS is that of the largest single process of a pipeline/sequence, not
# a sum). The rootfs is read once before timing (warm page cache), and `sync`
# runs after every timed command, outside the timing, so that one tool's
# writeback does not land in the next tool's time.
#
# Other load: the machine may be shared (compilers, tests). Before each timed
# command the script waits (up to --idle-wait seconds, default 300; 0 = do not
# wait) until the CPUs are less than 10 % busy for one second, and it records
# the CPU time used by everything else during each run (busy time from
# /proc/stat minus the command's own user+sys) as other_cpu_s. Runs where that
# exceeds 10 % of wall × nproc are flagged "contended" in the table.
#
# Outputs, in the output dir (default /tmp/ocipack-bench-<date>):
#   results.md   machine, input size, the markdown table, correctness checks
#   runs.csv     one row per tool and repetition (raw numbers)
#   verify.txt   details of the correctness checks
#   work/        the outputs of the last repetition (kept for inspection)
# The table is also printed on stdout.
#
# Correctness (after timing, not timed; --skip-verify skips it): every layout
# is checked blob by blob (sha256 = file name, sizes, diff_id = sha256 of the
# decompressed layer, gzip -t), read by skopeo (copy to a fresh layout), and
# unpacked by umoci as root; the unpacked tree is compared with the rootfs
# (names, types, modes, owners, mtimes, sizes, contents, symlink targets,
# device numbers, hardlinks, xattrs). The plain .tar.gz outputs are checked
# with gzip -t and their streamed hashes are recomputed.
# The timed commands are single-quoted on purpose: they expand in `bash -c`.
# shellcheck disable=SC2016
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/.." && pwd)

reps=3
rootfs=""
ocipack_bin="$repo_dir/build/ocipack"
out_dir="/tmp/ocipack-bench-$(date +%Y%m%d-%H%M%S)"
verify=1
tag=bench
idle_wait=300

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }

if [[ ${1:-} == --incremental ]]; then
    shift
    exec "$script_dir/incremental.sh" "$@"
fi

while [[ $# -gt 0 ]]; do
    case $1 in
        --reps) reps=$2; shift 2 ;;
        --rootfs) rootfs=$2; shift 2 ;;
        --ocipack) ocipack_bin=$(realpath -m -- "$2"); shift 2 ;;
        --out) out_dir=$2; shift 2 ;;
        --idle-wait) idle_wait=$2; shift 2 ;;
        --skip-verify) verify=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --reps wants a positive integer" >&2; exit 2; }

log() { printf '[compare] %s\n' "$*" >&2; }

for tool in umoci pigz gzip zstd tar sha256sum openssl libdeflate-gzip jq skopeo python3 bc /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "compare.sh: missing tool: $tool" >&2; exit 1; }
done

if [[ -z $rootfs ]]; then
    rootfs=$("$repo_dir/scripts/prepare_bench_rootfs.sh" | tail -n1)
fi
rootfs=$(realpath "$rootfs")
[[ -d $rootfs ]] || { echo "compare.sh: rootfs is not a directory: $rootfs" >&2; exit 1; }

have_ocipack=0
if [[ -x $ocipack_bin ]]; then
    have_ocipack=1
else
    log "ocipack binary not found at $ocipack_bin: skipping the ocipack rows"
fi

mkdir -p "$out_dir"
out_dir=$(realpath "$out_dir")
work="$out_dir/work"
rm -rf "$work"
mkdir -p "$work"
csv="$out_dir/runs.csv"
md="$out_dir/results.md"
verify_log="$out_dir/verify.txt"
nproc=$(nproc)
cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')

# Every timed command runs in `bash -c` with these in its environment.
export ROOTFS="$rootfs" W="$work" TAG="$tag" NPROC="$nproc" OCIPACK="$ocipack_bin"

# ---------------------------------------------------------------- warm-up
log "warm-up: reading $rootfs once and making the reference tar"
tar_cmd='tar --sort=name --numeric-owner -C "$ROOTFS" -cf - .'
bash -c "$tar_cmd" >"$work/input.tar"
cat "$work/input.tar" >/dev/null
input_du=$(du -sb "$rootfs" | cut -f1)
input_tar=$(stat -c %s "$work/input.tar")
input_entries=$(find "$rootfs" | wc -l)
input_tar_sha=$(sha256sum "$work/input.tar" | cut -d' ' -f1)
sync

# ---------------------------------------------------------------- tools
# Each tool: a name, a shell command (run in bash -c, cwd $W), and a function
# that prints the output size in bytes. Setup (removing the previous output)
# is not timed.
tools=()
declare -A cmd setup size_of
if (( have_ocipack )); then
    tools+=("ocipack")
    setup[ocipack]='rm -rf "$W/ocipack-L"'
    cmd[ocipack]='"$OCIPACK" build "$ROOTFS" -o "$W/ocipack-L" --tag "$TAG"'
    size_of[ocipack]=layout_layer_size:ocipack-L
    tools+=("ocipack-fast")
    setup[ocipack-fast]='rm -rf "$W/ocipack-fast-L"'
    cmd[ocipack-fast]='"$OCIPACK" build "$ROOTFS" -o "$W/ocipack-fast-L" --tag "$TAG" --fast'
    size_of[ocipack-fast]=layout_layer_size:ocipack-fast-L
    tools+=("ocipack-t1")
    setup[ocipack-t1]='rm -rf "$W/ocipack-t1-L"'
    cmd[ocipack-t1]='"$OCIPACK" build "$ROOTFS" -o "$W/ocipack-t1-L" --tag "$TAG" --threads 1'
    size_of[ocipack-t1]=layout_layer_size:ocipack-t1-L
    tools+=("ocipack-zstd")
    setup[ocipack-zstd]='rm -rf "$W/ocipack-zstd-L"'
    cmd[ocipack-zstd]='"$OCIPACK" build "$ROOTFS" -o "$W/ocipack-zstd-L" --tag "$TAG" --compression-format zstd'
    size_of[ocipack-zstd]=layout_layer_size:ocipack-zstd-L
    tools+=("ocipack-zstd-t1")
    setup[ocipack-zstd-t1]='rm -rf "$W/ocipack-zstd-t1-L"'
    cmd[ocipack-zstd-t1]='"$OCIPACK" build "$ROOTFS" -o "$W/ocipack-zstd-t1-L" --tag "$TAG" --compression-format zstd --threads 1'
    size_of[ocipack-zstd-t1]=layout_layer_size:ocipack-zstd-t1-L
    tools+=("ocipack-chunked")
    setup[ocipack-chunked]='rm -rf "$W/ocipack-chunked-L"'
    cmd[ocipack-chunked]='"$OCIPACK" build "$ROOTFS" -o "$W/ocipack-chunked-L" --tag "$TAG" --compression-format zstd:chunked'
    size_of[ocipack-chunked]=layout_layer_size:ocipack-chunked-L
    tools+=("ocipack-chunked-t1")
    setup[ocipack-chunked-t1]='rm -rf "$W/ocipack-chunked-t1-L"'
    cmd[ocipack-chunked-t1]='"$OCIPACK" build "$ROOTFS" -o "$W/ocipack-chunked-t1-L" --tag "$TAG" --compression-format zstd:chunked --threads 1'
    size_of[ocipack-chunked-t1]=layout_layer_size:ocipack-chunked-t1-L
fi

tools+=("umoci")
# The previous bundle (8,743 files) is moved aside, not deleted, until every
# repetition has run: on ext4 the inode allocator reads each inode deleted
# in the last minutes when new files are created (recently_deleted()), and
# deleting the bundle just before the next `cp -a` made that copy slower
# every repetition (0.5 s, 2.3, 4.4, 5.5, 6.0 s in one run), a cost of the
# bench's clean-up, not of umoci.
setup[umoci]='mkdir -p "$W/trash"
for d in umoci-L umoci-B; do [ -e "$W/$d" ] && mv "$W/$d" "$(mktemp -u "$W/trash/$d.XXXXXX")"; done
rm -f "$W/umoci-phases"'
# Phase time stamps go to umoci-phases for the CSV.
cmd[umoci]='
ts() { printf "%s %s\n" "$1" "$(date +%s.%N)" >>"$W/umoci-phases"; }
set -e
cd "$W"
ts start
umoci init --layout umoci-L
umoci new --image "umoci-L:$TAG"
umoci unpack --rootless --image "umoci-L:$TAG" umoci-B
ts unpacked
cp -r -a --no-preserve=ownership "$ROOTFS"/. umoci-B/rootfs
ts copied
umoci repack --image "umoci-L:$TAG" umoci-B
ts repacked
umoci config --image "umoci-L:$TAG" --config.label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
umoci config --image "umoci-L:$TAG" --architecture amd64
umoci config --image "umoci-L:$TAG"
umoci config --image "umoci-L:$TAG" --author bench@example.com
ts configured'
size_of[umoci]=layout_layer_size:umoci-L

# The two hashes are streamed: the tar through a FIFO into sha256sum (the
# diff_id), the compressed stream into the file and sha256sum (the digest).
stream_cmd() { # compressor command
    printf '%s' '
set -e -o pipefail
cd "$W"
rm -f '"$2"'.fifo; mkfifo '"$2"'.fifo
sha256sum <'"$2"'.fifo >'"$2"'.tar.sha &
'"$tar_cmd"' | tee '"$2"'.fifo | '"$1"' | tee '"$2"'.tar.gz | sha256sum >'"$2"'.gz.sha
wait $!
rm -f '"$2"'.fifo'
}
tools+=("pigz")
setup[pigz]='rm -f "$W"/pigz.*'
cmd[pigz]=$(stream_cmd 'pigz -6 -p "$NPROC"' pigz)
size_of[pigz]=file_size:pigz.tar.gz

tools+=("gzip")
setup[gzip]='rm -f "$W"/gzip.*'
cmd[gzip]=$(stream_cmd 'gzip -6' gzip)
size_of[gzip]=file_size:gzip.tar.gz

tools+=("cpu-limit")
setup[cpu-limit]='rm -f "$W"/libdeflate.* "$W/limit-phases"'
# Phases are timed so that the limit can also be derived with OpenSSL's
# SHA-256 (SHA-NI where the CPU has it, as ocipack links OpenSSL) instead of
# coreutils sha256sum, which is several times slower on such CPUs.
cmd[cpu-limit]='
ts() { printf "%s %s\n" "$1" "$(date +%s.%N)" >>"$W/limit-phases"; }
set -e
cd "$W"
ts start
libdeflate-gzip -6 -c input.tar >libdeflate.tar.gz
ts compress
sha256sum input.tar >libdeflate.tar.sha
sha256sum libdeflate.tar.gz >libdeflate.gz.sha
ts sha256sum
openssl dgst -sha256 input.tar >/dev/null
openssl dgst -sha256 libdeflate.tar.gz >/dev/null
ts openssl'
size_of[cpu-limit]=file_size:libdeflate.tar.gz

tools+=("zstd-mt")
setup[zstd-mt]='rm -f "$W"/zstd-mt.*'
cmd[zstd-mt]=$(stream_cmd 'zstd -3 -q -T"$NPROC" -c' zstd-mt)
size_of[zstd-mt]=file_size:zstd-mt.tar.gz

tools+=("zstd-limit")
setup[zstd-limit]='rm -f "$W"/zstd-single.* "$W/zstd-limit-phases"'
cmd[zstd-limit]='
ts() { printf "%s %s\n" "$1" "$(date +%s.%N)" >>"$W/zstd-limit-phases"; }
set -e
cd "$W"
ts start
zstd -3 -q -T1 -c input.tar >zstd-single.tar.zst
ts compress
sha256sum input.tar >zstd-single.tar.sha
sha256sum zstd-single.tar.zst >zstd-single.zst.sha
ts sha256sum'
size_of[zstd-limit]=file_size:zstd-single.tar.zst

tools+=("chunked-limit")
# The regular files, listed before timing (zstd -r stops with an error at
# device nodes).
setup[chunked-limit]='rm -f "$W"/chunked-single.* "$W/chunked-limit-phases"
find "$ROOTFS" -type f -print0 | sort -z >"$W/chunked-single.files"'
cmd[chunked-limit]='
ts() { printf "%s %s\n" "$1" "$(date +%s.%N)" >>"$W/chunked-limit-phases"; }
set -e -o pipefail
cd "$W"
ts start
xargs -0 zstd -3 -q -T1 -c <chunked-single.files >chunked-single.zst
ts compress
xargs -0 sha256sum <chunked-single.files >chunked-single.files.sha
sha256sum input.tar >chunked-single.tar.sha
sha256sum chunked-single.zst >chunked-single.zst.sha
ts sha256sum'
size_of[chunked-limit]=file_size:chunked-single.zst

declare -A label=(
    [ocipack]="ocipack build (defaults)"
    [ocipack-fast]="ocipack build --fast (ISA-L level 1)"
    [ocipack-t1]="ocipack build --threads 1"
    [umoci]="umoci (Yocto image-oci sequence)"
    [pigz]="tar \\| pigz -6 -p $nproc + 2×sha256"
    [gzip]="tar \\| gzip -6 + 2×sha256 (sloci-image)"
    [cpu-limit]="CPU limit: 1-thread libdeflate -6 + 2×sha256, ÷ $nproc"
    [ocipack-zstd]="ocipack build --compression-format zstd"
    [ocipack-zstd-t1]="ocipack build --compression-format zstd --threads 1"
    [ocipack-chunked]="ocipack build --compression-format zstd:chunked"
    [ocipack-chunked-t1]="ocipack build --compression-format zstd:chunked --threads 1"
    [zstd-mt]="tar \\| zstd -3 -T$nproc + 2×sha256"
    [zstd-limit]="zstd CPU limit: 1-thread zstd -3 + 2×sha256, ÷ $nproc"
    [chunked-limit]="zstd:chunked CPU limit: 1-thread zstd -3 per file + per-file and 2×sha256, ÷ $nproc"
)
# Parallel rows, and the CPU-limit row their efficiency is measured against.
declare -A parallel=([ocipack]=cpu-limit [ocipack-fast]=cpu-limit [pigz]=cpu-limit [ocipack-zstd]=zstd-limit [zstd-mt]=zstd-limit [ocipack-chunked]=chunked-limit)

layout_layer_size() { # layout dir (relative to $work)
    local l="$work/$1" m
    m=$(jq -r '.manifests[0].digest' "$l/index.json" | cut -d: -f2)
    jq -r '.layers | map(.size) | add' "$l/blobs/sha256/$m"
}
file_size() { stat -c %s "$work/$1"; }

# ---------------------------------------------------------------- timing
echo "rep,tool,wall_s,user_s,sys_s,max_rss_kib,output_bytes,status,phases,other_cpu_s" >"$csv"

# shellcheck source=bench/lib_machine.sh
source "$script_dir/lib_machine.sh"

run_one() { # rep tool
    local rep=$1 t=$2 t0 t1 b0 b1 wall rss user sys code status size phases="" other
    ( cd "$work" && bash -c "${setup[$t]}" )
    sync
    wait_idle "$idle_wait"
    b0=$(busy_ticks)
    t0=$(date +%s.%N)
    set +e
    ( cd "$work" && /usr/bin/time -f '%M %U %S %x' -o "$work/time.out" \
        bash -c "${cmd[$t]}" >"$work/$t.log" 2>&1 )
    code=$?
    set -e
    t1=$(date +%s.%N)
    b1=$(busy_ticks)
    sync
    wall=$(echo "$t1 - $t0" | bc -l)
    read -r rss user sys _ < <(tail -n1 "$work/time.out")
    other=$(echo "o = ($b1 - $b0) / $hz - $user - $sys; if (o < 0) o = 0; o" | bc -l)
    if [[ $code -eq 0 ]]; then
        status=ok
        size=$(${size_of[$t]%%:*} "${size_of[$t]#*:}" 2>/dev/null || echo NA)
    else
        status="fail($code)"
        size=NA
        log "$t failed in rep $rep (exit $code); log: $work/$t.log"
        tail -n5 "$work/$t.log" | sed 's/^/    /' >&2
    fi
    local pf=""
    [[ $t == umoci ]] && pf="$work/umoci-phases"
    [[ $t == cpu-limit ]] && pf="$work/limit-phases"
    [[ $t == zstd-limit ]] && pf="$work/zstd-limit-phases"
    [[ $t == chunked-limit ]] && pf="$work/chunked-limit-phases"
    if [[ -n $pf && -s $pf ]]; then
        phases=$(awk '{ if (NR > 1) printf "%s%s=%.3f", (NR > 2 ? ";" : ""), $1, $2 - prev; prev = $2 }' "$pf")
    fi
    printf '%s,%s,%.3f,%s,%s,%s,%s,%s,%s,%.2f\n' "$rep" "$t" "$wall" "$user" "$sys" "$rss" "$size" "$status" "$phases" "$other" >>"$csv"
    log "rep $rep  $(printf '%-11s' "$t") wall $(printf '%.3f' "$wall")s  cpu $(echo "$user + $sys" | bc)s  other $(printf '%.2f' "$other")s  rss $((rss / 1024)) MiB  out $size  $status"
}

for ((rep = 1; rep <= reps; rep++)); do
    for t in "${tools[@]}"; do
        run_one "$rep" "$t"
    done
done
rm -rf "$work/trash"  # the earlier umoci bundles, kept until now (see setup[umoci])

# ---------------------------------------------------------------- correctness
verify_layout() { # name layout-dir -> prints a one-line verdict; details to $verify_log
    local name=$1 l=$2 problems=0 m cfg layer diffid got blob unzip=gzip
    {
        echo "== $name: $l"
        for blob in "$l"/blobs/sha256/*; do
            got=$(sha256sum "$blob" | cut -d' ' -f1)
            [[ $got == "$(basename "$blob")" ]] || { echo "BAD blob digest: $blob"; problems=$((problems + 1)); }
        done
        m=$(jq -r '.manifests[0].digest' "$l/index.json" | cut -d: -f2)
        echo "index.json ref.name: $(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$l/index.json")"
        echo "blobs in layout: $(find "$l/blobs/sha256" -type f | wc -l)"
        cfg=$(jq -r '.config.digest' "$l/blobs/sha256/$m" | cut -d: -f2)
        echo "config: $(jq -c '{architecture, os, rootfs, config}' "$l/blobs/sha256/$cfg")"
        layer=$(jq -r '.layers[0].digest' "$l/blobs/sha256/$m" | cut -d: -f2)
        echo "layer mediaType: $(jq -r '.layers[0].mediaType' "$l/blobs/sha256/$m")"
        [[ $(stat -c %s "$l/blobs/sha256/$layer") == "$(jq -r '.layers[0].size' "$l/blobs/sha256/$m")" ]] \
            || { echo "BAD layer size in manifest"; problems=$((problems + 1)); }
        [[ $(jq -r '.layers[0].mediaType' "$l/blobs/sha256/$m") == *+zstd ]] && unzip=zstd
        $unzip -q -t "$l/blobs/sha256/$layer" || { echo "BAD $unzip -t"; problems=$((problems + 1)); }
        diffid=$($unzip -dc "$l/blobs/sha256/$layer" | sha256sum | cut -d' ' -f1)
        [[ sha256:$diffid == "$(jq -r '.rootfs.diff_ids[0]' "$l/blobs/sha256/$cfg")" ]] \
            || { echo "BAD diff_id (decompressed sha256 $diffid)"; problems=$((problems + 1)); }
        if [[ $unzip == zstd ]]; then
            echo "zstd frames: $(zstd -lv "$l/blobs/sha256/$layer" 2>&1 | sed -n 's/^# Zstandard Frames: //p')"
        else
            echo "gzip members: $(python3 -c '
import sys, zlib
data = open(sys.argv[1], "rb").read(); n = 0
while data:
    d = zlib.decompressobj(31); d.decompress(data); data = d.unused_data; n += 1
print(n)' "$l/blobs/sha256/$layer")"
        fi
        rm -rf "$work/verify-skopeo"
        if skopeo copy --quiet "oci:$l:$tag" "oci:$work/verify-skopeo:$tag"; then
            echo "skopeo copy: ok"
        else
            echo "BAD skopeo copy"; problems=$((problems + 1))
        fi
        rm -rf "$work/verify-unpack"
        if [[ $unzip == zstd ]]; then
            # umoci 0.4.7 cannot read zstd layers: ocipack's own verify instead.
            if [[ -x $ocipack_bin ]] && "$ocipack_bin" verify "$l" >/dev/null; then
                echo "ocipack verify (umoci 0.4.7 reads no zstd): ok"
            else
                echo "BAD ocipack verify"; problems=$((problems + 1))
            fi
        elif umoci unpack --image "$l:$tag" "$work/verify-unpack" >/dev/null; then
            echo "umoci unpack (as root): ok; tree vs rootfs:"
            python3 "$work/treecmp.py" "$rootfs" "$work/verify-unpack/rootfs" | sed 's/^/  /'
        else
            echo "BAD umoci unpack"; problems=$((problems + 1))
        fi
        rm -rf "$work/verify-unpack" "$work/verify-skopeo"
        echo "problems: $problems"
    } >>"$verify_log" 2>&1
    tail -n1 "$verify_log"
}

cat >"$work/treecmp.py" <<'PY'
# Compare two trees entry by entry; print counts per kind of difference and a
# few examples. Directory sizes and atimes/ctimes are ignored.
import os, stat, sys, collections
a_root, b_root = sys.argv[1], sys.argv[2]
def walk(root):
    out = {".": os.lstat(root)}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out
A, B = walk(a_root), walk(b_root)
diffs = collections.defaultdict(list)
for p in sorted(set(A) | set(B)):
    if p not in B: diffs["missing in output"].append(p); continue
    if p not in A: diffs["extra in output"].append(p); continue
    a, b = A[p], B[p]
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode): diffs["type"].append(p); continue
    if stat.S_IMODE(a.st_mode) != stat.S_IMODE(b.st_mode): diffs["mode"].append(f"{p} {oct(a.st_mode)}->{oct(b.st_mode)}")
    if (a.st_uid, a.st_gid) != (b.st_uid, b.st_gid): diffs["owner"].append(f"{p} {a.st_uid}:{a.st_gid}->{b.st_uid}:{b.st_gid}")
    if not stat.S_ISLNK(a.st_mode) and int(a.st_mtime) != int(b.st_mtime): diffs["mtime (whole s)"].append(p)
    if stat.S_ISLNK(a.st_mode):
        if os.readlink(os.path.join(a_root, p)) != os.readlink(os.path.join(b_root, p)): diffs["symlink target"].append(p)
    elif stat.S_ISREG(a.st_mode):
        if a.st_size != b.st_size: diffs["size"].append(p)
        else:
            with open(os.path.join(a_root, p), "rb") as fa, open(os.path.join(b_root, p), "rb") as fb:
                while True:
                    x, y = fa.read(1 << 20), fb.read(1 << 20)
                    if x != y: diffs["content"].append(p); break
                    if not x: break
    elif stat.S_ISCHR(a.st_mode) or stat.S_ISBLK(a.st_mode):
        if a.st_rdev != b.st_rdev: diffs["device number"].append(p)
    try:
        xa = {k: os.getxattr(os.path.join(a_root, p), k, follow_symlinks=False) for k in os.listxattr(os.path.join(a_root, p), follow_symlinks=False)}
        xb = {k: os.getxattr(os.path.join(b_root, p), k, follow_symlinks=False) for k in os.listxattr(os.path.join(b_root, p), follow_symlinks=False)}
        if xa != xb: diffs["xattrs"].append(f"{p} {sorted(xa)}->{sorted(xb)}")
    except OSError:
        pass
# Hardlinks: files sharing an inode in A must share one in B, and vice versa.
def groups(T):
    g = collections.defaultdict(set)
    for p, s in T.items():
        if stat.S_ISREG(s.st_mode) and s.st_nlink > 1: g[(s.st_dev, s.st_ino)].add(p)
    return {frozenset(v) for v in g.values() if len(v) > 1}
ga, gb = groups(A), groups(B)
for g in ga - gb: diffs["hardlink group lost"].append(" = ".join(sorted(g)))
for g in gb - ga: diffs["hardlink group new"].append(" = ".join(sorted(g)))
print(f"entries: rootfs {len(A)}, output {len(B)}; hardlink groups: rootfs {len(ga)}, output {len(gb)}")
if not diffs: print("identical (names, types, modes, owners, mtimes, contents, links, devices, xattrs)")
for k, v in diffs.items():
    print(f"{k}: {len(v)}  e.g. {'; '.join(v[:3])}")
PY

verify_stream() { # name [decompressor] -> verdict line
    local n=$1 unzip=${2:-gzip} problems=0 got
    {
        echo "== $n: $work/$n.tar.gz"
        $unzip -q -t "$work/$n.tar.gz" || { echo "BAD $unzip -t"; problems=$((problems + 1)); }
        got=$(sha256sum "$work/$n.tar.gz" | cut -d' ' -f1)
        [[ $got == "$(cut -d' ' -f1 "$work/$n.gz.sha")" ]] || { echo "BAD streamed digest"; problems=$((problems + 1)); }
        got=$($unzip -dc "$work/$n.tar.gz" | sha256sum | cut -d' ' -f1)
        [[ $got == "$(cut -d' ' -f1 "$work/$n.tar.sha")" ]] || { echo "BAD streamed diff_id"; problems=$((problems + 1)); }
        [[ $got == "$input_tar_sha" ]] || { echo "NOTE: tar differs from the warm-up tar"; }
        echo "problems: $problems"
    } >>"$verify_log" 2>&1
    tail -n1 "$verify_log"
}

declare -A verdict
: >"$verify_log"
if (( verify )); then
    log "verifying outputs of the last repetition (see $verify_log)"
    for t in "${tools[@]}"; do
        case $t in
            ocipack) [[ -f $work/ocipack-L/index.json ]] && verdict[$t]=$(verify_layout "$t" "$work/ocipack-L") ;;
            ocipack-t1) [[ -f $work/ocipack-t1-L/index.json ]] && verdict[$t]=$(verify_layout "$t" "$work/ocipack-t1-L") ;;
            ocipack-fast|ocipack-zstd|ocipack-zstd-t1|ocipack-chunked|ocipack-chunked-t1) [[ -f $work/$t-L/index.json ]] && verdict[$t]=$(verify_layout "$t" "$work/$t-L") ;;
            umoci) [[ -f $work/umoci-L/index.json ]] && verdict[$t]=$(verify_layout "$t" "$work/umoci-L") ;;
            pigz|gzip) [[ -f $work/$t.tar.gz ]] && verdict[$t]=$(verify_stream "$t") ;;
            zstd-mt) [[ -f $work/$t.tar.gz ]] && verdict[$t]=$(verify_stream "$t" zstd) ;;
        esac
    done
    if (( have_ocipack )) && [[ -f $work/ocipack-zstd-L/index.json && -f $work/ocipack-zstd-t1-L/index.json ]]; then
        if cmp -s <(jq -c '.layers' "$work/ocipack-zstd-L/blobs/sha256/$(jq -r '.manifests[0].digest' "$work/ocipack-zstd-L/index.json" | cut -d: -f2)") \
                  <(jq -c '.layers' "$work/ocipack-zstd-t1-L/blobs/sha256/$(jq -r '.manifests[0].digest' "$work/ocipack-zstd-t1-L/index.json" | cut -d: -f2)"); then
            echo "ocipack zstd: default threads and --threads 1 give the same layer digest and size" >>"$verify_log"
        else
            echo "ocipack zstd: default threads and --threads 1 give DIFFERENT layers" >>"$verify_log"
        fi
    fi
    if (( have_ocipack )) && [[ -f $work/ocipack-L/index.json && -f $work/ocipack-t1-L/index.json ]]; then
        # The config holds "created" (now, unless SOURCE_DATE_EPOCH), so
        # compare what must not depend on threads: layer digest and diff_id.
        layer_ids() {
            local l=$1 m c
            m=$(jq -r '.manifests[0].digest' "$l/index.json" | cut -d: -f2)
            c=$(jq -r '.config.digest' "$l/blobs/sha256/$m" | cut -d: -f2)
            echo "$(jq -c '[.layers[] | .digest, .size]' "$l/blobs/sha256/$m") $(jq -c '.rootfs.diff_ids' "$l/blobs/sha256/$c")"
        }
        if [[ $(layer_ids "$work/ocipack-L") == "$(layer_ids "$work/ocipack-t1-L")" ]]; then
            echo "ocipack: default threads and --threads 1 give the same layer digest, size and diff_id" >>"$verify_log"
        else
            echo "ocipack: default threads and --threads 1 give DIFFERENT layers" >>"$verify_log"
        fi
    fi
fi

# ---------------------------------------------------------------- table
median_stdin() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
median_of() { # tool column-number
    awk -F, -v t="$1" -v c="$2" 'NR > 1 && $2 == t && $8 == "ok" { print $c }' "$csv" | median_stdin
}
max_of() {
    awk -F, -v t="$1" -v c="$2" 'NR > 1 && $2 == t && $8 == "ok" { if ($c > m) m = $c; n++ } END { print n ? m : "NA" }' "$csv"
}
last_of() {
    awk -F, -v t="$1" -v c="$2" 'NR > 1 && $2 == t && $8 == "ok" { v = $c } END { print v == "" ? "NA" : v }' "$csv"
}
sizes_vary() {
    awk -F, -v t="$1" 'NR > 1 && $2 == t && $8 == "ok" { if (!($7 in s)) n++; s[$7] = 1 } END { print (n > 1 ? "*" : "") }' "$csv"
}
fmt() { [[ $1 == NA ]] && echo "—" || LC_ALL=C printf "%.${2}f" "$1"; }

phase_median() { # tool phase
    awk -F, -v t="$1" 'NR > 1 && $2 == t && $8 == "ok" { print $9 }' "$csv" | tr ';' '\n' |
        awk -F= -v k="$2" '$1 == k { print $2 }' | median_stdin
}
# Per-run sums, then the median, so that one noisy phase does not mix runs.
limit_single() { # tool, then the phase names to add up
    local tool=$1
    shift
    awk -F, -v tool="$tool" -v want="$*" 'NR > 1 && $2 == tool && $8 == "ok" {
        n = split($9, p, ";"); sum = 0
        for (i = 1; i <= n; i++) { split(p[i], kv, "="); if (index(" " want " ", " " kv[1] " ")) sum += kv[2] }
        print sum }' "$csv" | median_stdin
}
umoci_med=$(median_of umoci 3)
cpu_single=$(limit_single cpu-limit compress sha256sum)
cpu_single_ssl=$(limit_single cpu-limit compress openssl)
zstd_single=$(limit_single zstd-limit compress sha256sum)
chunked_single=$(limit_single chunked-limit compress sha256sum)
cpu_limit=NA cpu_limit_ssl=NA zstd_limit=NA chunked_limit=NA
[[ $cpu_single != NA ]] && cpu_limit=$(echo "$cpu_single / $nproc" | bc -l)
[[ $cpu_single_ssl != NA ]] && cpu_limit_ssl=$(echo "$cpu_single_ssl / $nproc" | bc -l)
[[ $zstd_single != NA ]] && zstd_limit=$(echo "$zstd_single / $nproc" | bc -l)
[[ $chunked_single != NA ]] && chunked_limit=$(echo "$chunked_single / $nproc" | bc -l)
declare -A limit_wall=([cpu-limit]=$cpu_limit [zstd-limit]=$zstd_limit [chunked-limit]=$chunked_limit)
ratio() { [[ $1 == NA || $2 == NA ]] && echo NA || echo "$1 / $2" | bc -l; }

{
    echo "# ocipack comparison — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "- machine: $nproc × $cpu_model, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r)"
    echo "- rootfs: \`$rootfs\` — $input_entries entries, du -sb $input_du bytes ($(fmt "$(echo "$input_du / 1048576" | bc -l)" 1) MiB), tar $input_tar bytes ($(fmt "$(echo "$input_tar / 1048576" | bc -l)" 1) MiB)"
    echo "- repetitions: $reps (alternating), warm page cache, sync between runs (not timed)"
    ocipack_version=""
    (( have_ocipack )) && ocipack_version="$("$ocipack_bin" --version 2>/dev/null | head -n1), "
    echo "- versions: ${ocipack_version}umoci $(umoci --version | awk '{ print $3 }'), pigz $(pigz --version 2>&1 | awk '{ print $2 }'), gzip $(gzip --version | awk 'NR == 1 { print $2 }'), libdeflate-gzip $(dpkg-query -W -f '${Version}' libdeflate-tools 2>/dev/null), tar $(tar --version | awk 'NR == 1 { print $4 }')"
    echo "- CPU limit = median wall of single-thread libdeflate-gzip -6 + sha256sum(tar) + sha256sum(gz) = $(fmt "$cpu_single" 3) s, ÷ $nproc cores = $(fmt "$cpu_limit" 3) s" \
        "(phases, median s: libdeflate-gzip $(fmt "$(phase_median cpu-limit compress)" 3), 2×sha256sum $(fmt "$(phase_median cpu-limit sha256sum)" 3), 2×openssl sha256 $(fmt "$(phase_median cpu-limit openssl)" 3))"
    echo "- CPU limit with OpenSSL SHA-256 instead of sha256sum (what ocipack links): $(fmt "$cpu_single_ssl" 3) s ÷ $nproc = $(fmt "$cpu_limit_ssl" 3) s"
    echo "- zstd CPU limit = median wall of single-thread zstd -3 + 2×sha256sum = $(fmt "$zstd_single" 3) s, ÷ $nproc cores = $(fmt "$zstd_limit" 3) s (zstd $(zstd -V | grep -o 'v[0-9.]*' | head -1))"
    echo "- zstd:chunked CPU limit = median wall of single-thread zstd -3 of every file (a frame each) + sha256sum of every file, the tar and the output = $(fmt "$chunked_single" 3) s, ÷ $nproc cores = $(fmt "$chunked_limit" 3) s"
    echo
    echo "| tool | median wall s | max RSS MiB | output bytes | speed-up vs umoci | parallel efficiency | min wall s | median CPU s (user+sys) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for t in "${tools[@]}"; do
        med=$(median_of "$t" 3)
        rss=$(max_of "$t" 6)
        size=$(last_of "$t" 7)
        cpu=$(awk -F, -v t="$t" 'NR > 1 && $2 == t && $8 == "ok" { print $4 + $5 }' "$csv" | median_stdin)
        shown=$med
        minw=$(awk -F, -v t="$t" 'NR > 1 && $2 == t && $8 == "ok" { print $3 }' "$csv" | sort -g | head -n1)
        [[ -z $minw ]] && minw=NA
        if [[ $t == cpu-limit || $t == zstd-limit || $t == chunked-limit ]]; then
            shown=${limit_wall[$t]}
            minw=$(awk -F, -v t="$t" 'NR > 1 && $2 == t && $8 == "ok" { n = split($9, p, ";"); s = 0
                for (i = 1; i <= n; i++) { split(p[i], kv, "="); if (kv[1] != "openssl") s += kv[2] } print s }' "$csv" |
                sort -g | head -n1)
            [[ -n $minw ]] && minw=$(echo "$minw / $nproc" | bc -l) || minw=NA
            cpu=NA
        fi
        speed="—"
        if [[ $shown != NA && $umoci_med != NA && $t != umoci ]]; then
            speed="$(fmt "$(echo "$umoci_med / $shown" | bc -l)" 2)×"
        elif [[ $t == umoci && $umoci_med != NA ]]; then
            speed="1.00×"
        fi
        eff="—"
        line_wall=${limit_wall[${parallel[$t]:-none}]:-NA}
        if [[ $med != NA && $line_wall != NA ]]; then
            eff="$(fmt "$(echo "100 * $line_wall / $med" | bc -l)" 0) %"
            [[ ${parallel[$t]} == cpu-limit && $cpu_limit_ssl != NA ]] && eff+=" ($(fmt "$(echo "100 * $cpu_limit_ssl / $med" | bc -l)" 0) % vs OpenSSL line)"
            [[ ${parallel[$t]} == zstd-limit ]] && eff+=" (vs zstd line)"
            [[ ${parallel[$t]} == chunked-limit ]] && eff+=" (vs zstd:chunked line)"
        fi
        rss_mib="—"
        [[ $rss != NA ]] && rss_mib=$(fmt "$(echo "$rss / 1024" | bc -l)" 1)
        fails=$(awk -F, -v t="$t" 'NR > 1 && $2 == t && $8 != "ok"' "$csv" | wc -l)
        contended=$(awk -F, -v t="$t" -v n="$nproc" 'NR > 1 && $2 == t && $10 > 0.1 * $3 * n' "$csv" | wc -l)
        note=""
        (( fails > 0 )) && note+=" ($fails failed runs)"
        (( contended > 0 )) && note+=" ($contended of $reps runs contended)"
        echo "| ${label[$t]}$note | $(fmt "$shown" 3) | $rss_mib | $size$(sizes_vary "$t") | $speed | $eff | $(fmt "$minw" 3) | $(fmt "$cpu" 2) |"
    done
    echo
    echo "\\* output size differed between repetitions (last one shown)."
    echo "Output bytes: the layer blob for ocipack and umoci, the .tar.gz otherwise."
    echo "Max RSS: largest single process of the command (GNU time), maximum over repetitions."
    echo "Parallel efficiency: CPU limit ÷ median wall (above 100 % means the tool needs less CPU than the limit's reference tools)."
    echo "CPU-limit row: wall excludes the OpenSSL phase; its CPU column is not shown (it would include that phase)."
    echo "Contended: other processes used more than 10 % of wall × nproc CPU time during the run (other_cpu_s in runs.csv)."
    if [[ -n ${cmd[ocipack-zstd]:-} ]]; then
        gz_med=$(median_of ocipack 3) zs_med=$(median_of ocipack-zstd 3)
        echo
        echo "zstd targets: ocipack zstd vs ocipack gzip (defaults) speed-up $(fmt "$(ratio "$gz_med" "$zs_med")" 2)× (target ≥ 2.5×);" \
            "layer size ÷ single-thread zstd -3 of the tar $(fmt "$(ratio "$(last_of ocipack-zstd 7)" "$(last_of zstd-limit 7)")" 3) (target ≤ 1.02);" \
            "wall ÷ zstd CPU limit $(fmt "$(ratio "$zs_med" "$zstd_limit")" 2) (target ≤ 1.15)."
        if [[ -n ${cmd[ocipack-chunked]:-} ]]; then
            echo "zstd:chunked target: wall ÷ ocipack zstd wall $(fmt "$(ratio "$(median_of ocipack-chunked 3)" "$zs_med")" 2) (target ≤ 1.3);" \
                "the zstd:chunked CPU limit ÷ the zstd CPU limit, the same ratio for the least work: $(fmt "$(ratio "$chunked_limit" "$zstd_limit")" 2);" \
                "wall ÷ zstd:chunked CPU limit $(fmt "$(ratio "$(median_of ocipack-chunked 3)" "$chunked_limit")" 2)."
        fi
    fi
    if [[ $(median_of umoci 3) != NA ]]; then
        echo
        phase_line=""
        for ph in unpacked copied repacked configured; do
            v=$(awk -F, 'NR > 1 && $2 == "umoci" && $8 == "ok" { print $9 }' "$csv" | tr ';' '\n' |
                awk -F= -v k="$ph" '$1 == k { print $2 }' | median_stdin)
            phase_line+="${phase_line:+, }$ph $(fmt "$v" 3)"
        done
        echo "umoci phases (median s): $phase_line"
        echo "(unpacked = init+new+unpack --rootless, copied = cp -a of the rootfs, repacked = repack, configured = 4 config calls)"
    fi
    if (( verify )); then
        echo
        echo "## Correctness (last repetition; details in verify.txt)"
        echo
        for t in "${tools[@]}"; do
            [[ -n ${verdict[$t]:-} ]] && echo "- ${label[$t]}: ${verdict[$t]}"
        done
        echo
        echo '```'
        grep -vE '^(config|blobs in layout|index.json|layer mediaType):' "$verify_log" || true
        echo '```'
    fi
    echo
    echo "Raw runs: runs.csv"
} >"$md"

cat "$md"
log "results in $out_dir"
