#!/usr/bin/env bash
# prepare_bench_big_tree.sh — a ≥ 2 GiB root filesystem for the incremental
# benchmark (bench/incremental.sh --big), generated deterministically from the
# Debian minbase tree of prepare_bench_rootfs.sh.
#
# Usage: scripts/prepare_bench_big_tree.sh [DIR]
#
# The tree (default CACHE/big2g, CACHE = OCIPACK_BENCH_CACHE or
# /var/cache/ocipack-bench) is made once and reused (a marker in the cache
# says it is complete; delete DIR and the marker to remake it). It holds:
#   - the minbase rootfs itself at the top (so /etc/hostname, usr/lib, ... are
#     real), owners, modes, xattrs kept;
#   - srv/copy1 .. srv/copy9: copies of minbase whose regular files are made
#     distinct from the original and from each other by XOR-ing every byte
#     with a per-copy constant (same sizes and the same compressibility as
#     the original, but no chunk of one copy equals a chunk of another, so a
#     cold build cannot reuse chunks within the tree);
#   - opt/data: two 128 MiB incompressible files (AES-CTR keystream with a
#     fixed key, "model weights"), one 192 MiB base64 text of such bytes
#     (compresses to ~75 %) and one ~150 MiB `seq` listing (very
#     compressible);
#   - usr/lib/x86_64-linux-gnu/libbench-big.so.1: a 6 MiB binary made of the
#     largest shared objects of minbase, the "5 MB binary" of the scenario.
# Same minbase tarball → same bytes (mtimes are set to a fixed time).
#
# The last line on stdout is the tree's path; progress goes to stderr.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${OCIPACK_BENCH_CACHE:-/var/cache/ocipack-bench}
tree=$(realpath -m "${1:-$cache/big2g}")
key=$(printf '%s' "$tree" | sha256sum | cut -c1-16)
ready_mark="$cache/.big-ready.$key"
k_copies=9
k_mtime=1700000000

log() { printf 'prepare_bench_big_tree: %s\n' "$*" >&2; }

mkdir -p "$cache"
exec 9>"$cache/.big-lock"
flock 9

if [[ -e $ready_mark && -d $tree ]]; then
    log "cached tree found in $tree"
    printf '%s\n' "$tree"
    exit 0
fi

minbase=$("$script_dir/prepare_bench_rootfs.sh" | tail -n1)
rm -rf "$tree"
mkdir -p "$tree"
log "copying $minbase -> $tree"
cp -a "$minbase"/. "$tree"/

# keystream BYTES SEED: deterministic incompressible bytes on stdout.
keystream() {
    local key
    key=$(printf '%s' "$2" | sha256sum | cut -c1-32)
    # head closes the pipe early: openssl's write error is expected.
    (set +o pipefail; openssl enc -aes-128-ctr -K "$key" -iv 00000000000000000000000000000000 -nosalt \
        </dev/zero 2>/dev/null | head -c "$1")
}

for ((i = 1; i <= k_copies; i++)); do
    log "copy $i of $k_copies (XOR $((i * 37 % 255 + 1)))"
    mkdir -p "$tree/srv/copy$i"
    cp -a "$minbase"/. "$tree/srv/copy$i"/
    python3 - "$tree/srv/copy$i" "$((i * 37 % 255 + 1))" <<'PY'
# XOR every regular file's bytes with one constant, in place (each inode once,
# so hardlinked names stay hardlinks); modes, owners and mtimes are restored.
import os, sys
root, k = sys.argv[1], int(sys.argv[2])
table = bytes(b ^ k for b in range(256))
seen = set()
for d, dirs, files in os.walk(root):
    for n in files:
        p = os.path.join(d, n)
        st = os.lstat(p)
        if not os.path.isfile(p) or os.path.islink(p) or (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        with open(p, "r+b") as f:
            data = f.read().translate(table)
            f.seek(0)
            f.write(data)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
PY
done

log "large files in opt/data"
mkdir -p "$tree/opt/data"
keystream $((128 << 20)) weights-a >"$tree/opt/data/weights-a.bin"
keystream $((128 << 20)) weights-b >"$tree/opt/data/weights-b.bin"
keystream $((144 << 20)) text | base64 -w 76 >"$tree/opt/data/blob.b64"
seq 1 22000000 >"$tree/opt/data/numbers.txt"
(set +o pipefail; find "$minbase/usr/lib/x86_64-linux-gnu" -maxdepth 1 -type f -name '*.so*' -size +1M -print0 |
    sort -z | xargs -0 cat 2>/dev/null | head -c $((6 << 20))) >"$tree/usr/lib/x86_64-linux-gnu/libbench-big.so.1"
chmod 755 "$tree/usr/lib/x86_64-linux-gnu/libbench-big.so.1"
touch -d "@$k_mtime" "$tree/opt/data"/* "$tree/opt/data" "$tree/opt" "$tree/srv" \
    "$tree/usr/lib/x86_64-linux-gnu/libbench-big.so.1"

size=$(du -sb "$tree" | cut -f1)
log "tree $tree: $size bytes"
if ((size < 2 * 1024 * 1024 * 1024)); then
    log "the tree is smaller than 2 GiB: is the minbase tree the real one?"
    exit 1
fi
: >"$ready_mark"
printf '%s\n' "$tree"
