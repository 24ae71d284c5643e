#!/bin/bash
# test_cache.sh OCIPACK
#
# The local chunk cache (`--cache DIR`, issue 15), attacked from every side a
# build machine can: the bytes it gives back, builds sharing it at once,
# damaged entries, a full disk, its size bound, an interrupted build. The
# remote half (`--cache-remote`) is test_cache_remote.sh. Every build is
# compared with a build of the same tree without a cache (SOURCE_DATE_EPOCH
# fixed, so the manifest digest must be equal too), and cache figures are
# read from the `--stats` line `cache hits H (remote R), misses M, corrupt C,
# bypassed B, saved ...`.
#   1. Bytes: gzip members (libdeflate, isal, --level 9), gzip single
#      stream (isal), zstd, zstd:chunked, all in one cache (a cold build of
#      another format finds nothing): cold, warm (every chunk hit, time
#      saved), one small file changed (>= 90 % hit, >= 1 miss), warm with
#      --threads 1 and 4; `--compression-format none` and `--dictionary`
#      bypass the cache (no entry written); OCIPACK_CACHE_DIR works like
#      --cache, --no-cache ignores it; three --layer layers through one
#      cache (--stats has a cache line per layer); the summary line.
#   2. Concurrency: four builds (two trees, each twice) at once on one
#      cache, then with --cache-max-size small enough that they prune while
#      the others read and store.
#   3. Corruption: flipped bytes, truncated, empty, a symlink to a valid
#      copy of itself outside the cache (a hit only if followed), another
#      chunk's entry under a wrong name: each refused and counted, one
#      warning each (5, then a "more" line), recomputed, replaced. Then one
#      at a time: a directory, a FIFO, a 300 MiB sparse file, the shard
#      directory a symlink to a copy outside (nothing there read, removed or
#      written), builds.log a symlink.
#   4. Full disk (a 512 KiB tmpfs as the cache): the build succeeds with one
#      warning, no temp file; the same tmpfs read-only still hits; a --cache
#      that is a regular file, or whose chunks/ is a symlink, fails with one
#      error line before the layout is touched.
#   5. Bounded: --cache-max-size, least-recently-used pruning (hits refresh
#      an entry's mtime, at most once an hour), `ocipack cache stats|prune`
#      (stale temp files, --max-size 0, a missing DIR), bad flag values.
#   6. SIGINT during a cold build: exit 130, no temp entry left, what was
#      compressed is kept (the unfinished blob as a pack) and the next build
#      reuses it; SIGKILL: nothing kept, the temp files left are not counted
#      or used.
#   7. Packs: a cold build of a 40 MiB tree stores one pack (the layout's
#      blob inode, named by the layer digest, no entry file); cache stats
#      counts its chunks; warm builds hit all of it, also after the layout
#      is removed; a one-file change stores entry files beside it; the
#      blob rewritten in place is caught (one warning, recomputed, right
#      digest); a planted index is refused and removed; two cold builds at
#      once; prune removes the pack and leaves the layout; a cache on
#      another file system (/dev/shm) gets entry files instead.
# Last, no cache warning shows a library field name.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP
export SOURCE_DATE_EPOCH=1700000000
unset OCIPACK_CACHE_DIR OCIPACK_CACHE_REMOTE

SMALL_MOUNT=""
cleanup_cache_test() {
    [ -n "$SMALL_MOUNT" ] && umount "$SMALL_MOUNT" 2>/dev/null
    cleanup_tmp
}
trap cleanup_cache_test EXIT
trap 'exit 130' INT TERM

if ! require_tool jq python3 sha256sum; then
    fail "cache tests" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi

A=$T/treeA    # the consumer-test rootfs
A2=$T/treeA2  # the same, one small file changed
bash "$(dirname "$0")/make_test_rootfs.sh" "$A" >/dev/null 2>&1 &
mk_a=$!
bash "$(dirname "$0")/make_test_rootfs.sh" "$A2" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
wait $mk_a || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
printf 'Hello, changed world\n' >"$A2/etc/hello.txt"
touch -r "$A/etc/hello.txt" "$A2/etc/hello.txt"
GZIP_ARGS=(--compression-format gzip)

# build NAME TREE LAYOUT ARGS... : a fresh build of TREE (tag t, 64 KiB
# chunks, --stats) into LAYOUT; output in $T/NAME.out and $T/NAME.err.
build() {
    local name=$1 tree=$2 layout=$3
    shift 3
    rm -rf "$layout"
    "$OCIPACK" build "$tree" -o "$layout" --tag t -q --stats --chunk-size 64K "$@" \
        </dev/null >"$T/$name.out" 2>"$T/$name.err"
}

# digests LAYOUT : "MANIFEST LAYER,..." of tag t.
digests() {
    local manifest
    manifest=$(layout_manifest_digest "$1" t)
    [ -n "$manifest" ] || { echo "no-manifest"; return; }
    echo "$manifest $(jq -r '[.layers[].digest] | join(",")' "$(blob_path "$1" "$manifest")")"
}

# stat_of NAME FIELD : a figure of the cache --stats lines of build NAME
# (hits, remote, misses, corrupt, bypassed), summed over its layers (one
# line each); "none" without such a line.
stat_of() {
    local lines
    lines=$(grep -E '^cache hits [0-9]+ \(remote [0-9]+\), misses [0-9]+, corrupt [0-9]+, bypassed [0-9]+, saved' "$T/$1.err")
    [ -n "$lines" ] || { echo none; return; }
    grep -oE "$2 [0-9]+" <<<"$lines" | awk '{s += $2} END {print s}'
}

# entries DIR : the entry paths of cache DIR (anything below chunks/XX/ that
# is not a temp file), sorted.
entries() { find "$1/chunks" -mindepth 2 -maxdepth 2 ! -name '.tmp-*' 2>/dev/null | sort; }
entry_count() { entries "$1" | grep -c ''; }
temp_files() { find "$1" -name '.tmp-*' 2>/dev/null | grep -c ''; }
# bytes_of FILE... : sum of the sizes.
bytes_of() { [ $# -eq 0 ] && { echo 0; return; }; stat -c %s "$@" | awk '{s += $1} END {print s + 0}'; }
# cache_warnings NAME : the cache warning lines of build NAME.
cache_warnings() { grep -E '^ocipack: warning: (remote )?cache' "$T/$1.err"; }

# built_ok NAME RC LAYOUT EXPECTED_DIGESTS : exit 0 and the digests of the build without cache.
built_ok() {
    if [ "$2" -ne 0 ]; then
        fail "$1: exit 0" "exit $2"
        show_tail "$T/$1.err"
        return 1
    fi
    check_eq "$1: same manifest and layer digests as without a cache" "$4" "$(digests "$3")"
}

# stats_are NAME "hits=H misses=M corrupt=C bypassed=B" : the --stats figures.
stats_are() {
    local want=$2 got="" field
    for field in hits misses corrupt bypassed; do
        got+="$field=$(stat_of "$1" "$field") "
    done
    check_eq "$1: --stats says $want" "$want" "${got% }"
}

# ===========================================================================
echo "# 1. bytes: every format, cold / warm / one file changed / threads"
declare -A REF
# One cache for every format: a cold build of the same tree in another
# format (or level) must find nothing of the others'. Steps: c (one file
# changed), t (--threads 1 and 4), besides the cold and warm builds.
FORMATS=("gzip|ct|--compression-format gzip" "gzip-isal|c|--compression-format gzip --compressor isal"
         "gzip-level9|-|--compression-format gzip --level 9"
         "gzip-single|-|--compression-format gzip --gzip-format single --compressor isal"
         "zstd|c|--compression-format zstd" "zstd-chunked|ct|--compression-format zstd:chunked")
C=$T/cache-shared
for spec in "${FORMATS[@]}"; do
    IFS='|' read -r f steps args <<<"$spec"
    read -ra F <<<"$args"
    build "$f-ref" "$A" "$T/$f-ref" "${F[@]}" || { fail "$f: build without cache" "$(tail -2 "$T/$f-ref.err")"; continue; }
    REF[$f]=$(digests "$T/$f-ref")
    check_eq "$f: no cache line in --stats without --cache" none "$(stat_of "$f-ref" hits)"
    before=$(entry_count "$C")
    build "$f-cold" "$A" "$T/$f-cold" "${F[@]}" --cache "$C"
    built_ok "$f: cold build (nothing of this format in the cache)" $? "$T/$f-cold" "${REF[$f]}"
    n=$(stat_of "$f-cold" misses)
    [ "$n" != none ] && [ "$n" -gt 10 ] && pass "$f: cold build: $n chunks missed and compressed" ||
        fail "$f: cold build: every chunk missed" "misses $n"
    stats_are "$f-cold" "hits=0 misses=$n corrupt=0 bypassed=0"
    stored=$(($(entry_count "$C") - before))
    [ "$stored" -ge 1 ] && [ "$stored" -le "$n" ] && pass "$f: cold build stored $stored entries" ||
        fail "$f: cold build stored one entry per distinct chunk" "$stored entries for $n chunks"

    build "$f-warm" "$A" "$T/$f-warm" "${F[@]}" --cache "$C"
    built_ok "$f: warm rebuild" $? "$T/$f-warm" "${REF[$f]}"
    stats_are "$f-warm" "hits=$n misses=0 corrupt=0 bypassed=0"
    check_eq "$f: warm rebuild: no cache warning" "" "$(cache_warnings "$f-warm")"
    saved=$(grep -oE 'saved [0-9.]+ s of compression' "$T/$f-warm.err" | awk '{print $2}')
    awk -v s="${saved:-0}" 'BEGIN {exit !(s > 0)}' && pass "$f: warm rebuild: --stats says $saved s of compression saved" ||
        fail "$f: warm rebuild: --stats says some compression time saved" "saved ${saved:-nothing}"
    for threads in 1 4; do
        [[ $steps == *t* ]] || continue
        build "$f-t$threads" "$A" "$T/$f-t$threads" "${F[@]}" --cache "$C" --threads "$threads"
        built_ok "$f: warm rebuild, --threads $threads" $? "$T/$f-t$threads" "${REF[$f]}"
        stats_are "$f-t$threads" "hits=$n misses=0 corrupt=0 bypassed=0"
    done

    check_eq "$f: no temp file left in the cache" 0 "$(temp_files "$C")"
    [[ $steps == *c* ]] || continue
    build "$f-ref2" "$A2" "$T/$f-ref2" "${F[@]}" || { fail "$f: build of the changed tree without cache" "$(tail -2 "$T/$f-ref2.err")"; continue; }
    REF[$f-2]=$(digests "$T/$f-ref2")
    [ "${REF[$f]}" != "${REF[$f-2]}" ] && pass "$f: the changed file changes the digests" ||
        fail "$f: the changed file changes the digests" "equal"
    build "$f-changed" "$A2" "$T/$f-changed" "${F[@]}" --cache "$C"
    built_ok "$f: rebuild after one small file changed" $? "$T/$f-changed" "${REF[$f-2]}"
    hits=$(stat_of "$f-changed" hits) misses=$(stat_of "$f-changed" misses)
    if [ "$hits" = none ]; then
        fail "$f: one file changed: most chunks hit" "no cache --stats line"
    elif [ "$misses" -ge 1 ] && [ $((hits * 10)) -ge $(((hits + misses) * 9)) ]; then
        pass "$f: one file changed: $hits hit, $misses missed (at least 90% hit, at least one miss)"
    else
        fail "$f: one file changed: at least 90% hit, at least one miss" "$hits hit, $misses missed"
    fi
done

# Formats the cache does not serve: counted as bypassed, nothing stored.
BYPASS=("none|--compression-format none" "dictionary|--compression-format gzip --gzip-format single --compressor isal --dictionary")
for spec in "${BYPASS[@]}"; do
    f=${spec%%|*}
    read -ra F <<<"${spec#*|}"
    build "$f-ref" "$A" "$T/$f-ref" "${F[@]}" || { fail "$f: build without cache" "$(tail -2 "$T/$f-ref.err")"; continue; }
    build "$f-cache" "$A" "$T/$f-cache" "${F[@]}" --cache "$T/cache-$f"
    built_ok "$f: build with --cache" $? "$T/$f-cache" "$(digests "$T/$f-ref")"
    b=$(stat_of "$f-cache" bypassed)
    [ "$b" != none ] && [ "$b" -gt 10 ] && pass "$f: --stats shows $b chunks bypassed" ||
        fail "$f: --stats shows the chunks bypassed" "bypassed $b"
    stats_are "$f-cache" "hits=0 misses=0 corrupt=0 bypassed=$b"
    check_eq "$f: no entry stored" 0 "$(entry_count "$T/cache-$f")"
done

# OCIPACK_CACHE_DIR is --cache; --no-cache ignores it.
OCIPACK_CACHE_DIR=$T/envcache build env-cold "$A" "$T/env-cold"
built_ok "OCIPACK_CACHE_DIR: cold build" $? "$T/env-cold" "${REF[gzip]}"
n=$(stat_of gzip-cold misses)
stats_are env-cold "hits=0 misses=$n corrupt=0 bypassed=0"
[ "$(entry_count "$T/envcache")" -ge 1 ] && pass "OCIPACK_CACHE_DIR: entries stored in it" ||
    fail "OCIPACK_CACHE_DIR: entries stored in it" "none"
OCIPACK_CACHE_DIR=$T/envcache build env-warm "$A" "$T/env-warm"
built_ok "OCIPACK_CACHE_DIR: warm build" $? "$T/env-warm" "${REF[gzip]}"
stats_are env-warm "hits=$n misses=0 corrupt=0 bypassed=0"
OCIPACK_CACHE_DIR=$T/envcache2 build env-nocache "$A" "$T/env-nocache" --no-cache
built_ok "--no-cache with OCIPACK_CACHE_DIR set" $? "$T/env-nocache" "${REF[gzip]}"
check_eq "--no-cache: no cache line in --stats" none "$(stat_of env-nocache hits)"
OCIPACK_CACHE_DIR='' build env-empty "$A" "$T/env-empty"
built_ok "OCIPACK_CACHE_DIR set but empty: no cache" $? "$T/env-empty" "${REF[gzip]}"
check_eq "OCIPACK_CACHE_DIR set but empty: no cache line in --stats" none "$(stat_of env-empty hits)"
# Three layers (--layer), built side by side through one cache.
build multi-ref "$A" "$T/multi-ref" --layer "$A2" --layer "$T/treeA/etc" || fail "multi-layer: build without cache" "$(tail -2 "$T/multi-ref.err")"
for run in cold warm; do
    build "multi-$run" "$A" "$T/multi-$run" --layer "$A2" --layer "$T/treeA/etc" --cache "$T/cache-multi"
    built_ok "three layers, $run cache" $? "$T/multi-$run" "$(digests "$T/multi-ref")"
done
total=$(($(stat_of multi-cold hits) + $(stat_of multi-cold misses)))
[ "$total" -gt $((2 * n)) ] && pass "three layers: --stats counts the chunks of every layer ($total)" ||
    fail "three layers: --stats counts the chunks of every layer" "$total chunks"
stats_are multi-warm "hits=$total misses=0 corrupt=0 bypassed=0"

# The summary (no -q) of a warm build.
"$OCIPACK" build "$A" -o "$T/summary" --tag t --chunk-size 64K --cache "$T/envcache" >"$T/summary.out" 2>"$T/summary.err"
check_contains "summary of a warm build: '  cache: H of N chunks reused, S s of compression saved'" "$T/summary.out" \
    "^  cache: $n of $n chunks reused( \(0 from the remote\))?, [0-9]+\.[0-9]{2} s of compression saved$"
[ ! -e "$T/envcache2" ] && pass "--no-cache: OCIPACK_CACHE_DIR not created" ||
    fail "--no-cache: OCIPACK_CACHE_DIR not created" "$(find "$T/envcache2" | head -3 | tr '\n' ' ')"
echo "# [$SECONDS s]"

# ===========================================================================
echo "# 2. concurrency: four builds at once on one cache"
# concurrent_builds NAME CACHE ARGS... : trees A, A2, A, A2 built at once.
concurrent_builds() {
    local name=$1 cache=$2 i tree want rc pids=()
    shift 2
    for i in 1 2 3 4; do
        tree=$A
        [ $((i % 2)) -eq 0 ] && tree=$A2
        build "$name$i" "$tree" "$T/$name$i" "${GZIP_ARGS[@]}" --cache "$cache" --threads 2 "$@" &
        pids+=($!)
    done
    for i in 1 2 3 4; do
        wait "${pids[$((i - 1))]}"
        rc=$?
        want=${REF[gzip]}
        [ $((i % 2)) -eq 0 ] && want=${REF[gzip-2]}
        built_ok "$name: concurrent build $i" $rc "$T/$name$i" "$want"
        check_eq "$name: concurrent build $i: no corrupt entry, no cache warning" "0 " \
            "$(stat_of "$name$i" corrupt) $(cache_warnings "$name$i")"
    done
    check_eq "$name: no temp file left" 0 "$(temp_files "$cache")"
}
C=$T/cache-conc
concurrent_builds conc "$C"
for v in 1 2; do
    tree=$A want=${REF[gzip]} n=$(stat_of gzip-cold misses)
    [ $v -eq 2 ] && tree=$A2 want=${REF[gzip-2]} n=$(($(stat_of gzip-changed hits) + $(stat_of gzip-changed misses)))
    build "conc-warm$v" "$tree" "$T/conc-warm$v" "${GZIP_ARGS[@]}" --cache "$C"
    built_ok "after the concurrent builds: warm build of tree $v" $? "$T/conc-warm$v" "$want"
    stats_are "conc-warm$v" "hits=$n misses=0 corrupt=0 bypassed=0"
done
"$OCIPACK" cache stats "$C" >"$T/conc-stats.out" 2>&1
check_eq "concurrent builds: builds.log has one intact line per build (cache stats lists 6)" 6 \
    "$(grep -cE '^  build [0-9T:-]+Z: [0-9]+ of [0-9]+ chunks reused' "$T/conc-stats.out")"
# Each build prunes to 300K when it ends, while the others read and store.
concurrent_builds conc-small "$T/cache-conc-small" --cache-max-size 300K
mapfile -t E < <(entries "$T/cache-conc-small")
size=$(bytes_of "${E[@]}")
[ "$size" -le 307200 ] && pass "conc-small: the cache holds at most 300K after ($size bytes)" ||
    fail "conc-small: the cache holds at most 300K after" "$size bytes"
echo "# [$SECONDS s]"

# ===========================================================================
echo "# 3. corruption"
C=$T/cache-bad
n=$(stat_of gzip-cold misses)
build bad-cold "$A" "$T/bad-cold" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "corruption: cold build" $? "$T/bad-cold" "${REF[gzip]}"
mapfile -t E < <(entries "$C")
if [ "${#E[@]}" -lt 12 ]; then
    fail "corruption: enough entries to damage" "${#E[@]}"
else
    mkdir -p "$T/outside"
    # 0, 1: a byte flipped in the middle; 2: truncated; 3: empty; 4: a
    # symlink to a copy of its own valid entry outside the cache (a hit if it
    # were followed); 5: the valid entry of chunk 6 under 5's name.
    for i in 0 1; do
        size=$(stat -c %s "${E[$i]}")
        python3 -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); f = open(p, "r+b"); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0x5a]))' "${E[$i]}" $((size / 2))
    done
    truncate -s $(($(stat -c %s "${E[2]}") - 100)) "${E[2]}"
    : >"${E[3]}"
    cp "${E[4]}" "$T/outside/valid-entry"
    OUTSIDE_SUM=$(sha256_of "$T/outside/valid-entry")
    rm "${E[4]}" && ln -s "$T/outside/valid-entry" "${E[4]}"
    cp "${E[6]}" "${E[5]}"
    DAMAGED=("${E[@]:0:6}")

    build bad-rebuild "$A" "$T/bad-rebuild" "${GZIP_ARGS[@]}" --cache "$C"
    built_ok "corruption: rebuild over 6 damaged entries" $? "$T/bad-rebuild" "${REF[gzip]}"
    stats_are bad-rebuild "hits=$((n - 6)) misses=6 corrupt=6 bypassed=0"
    cache_warnings bad-rebuild >"$T/bad-warnings"
    check_eq "corruption: 5 'cache entry' warning lines" 5 "$(grep -c '^ocipack: warning: cache entry ' "$T/bad-warnings")"
    check_eq "corruption: then one line for the 1 more" 1 "$(grep -cE '^ocipack: warning: cache: 1 more corrupt' "$T/bad-warnings")"
    check_eq "corruption: no other cache warning" 6 "$(grep -c '' "$T/bad-warnings")"
    named=0
    for e in "${DAMAGED[@]}"; do grep -qF "${e#"$C"/}" "$T/bad-warnings" && named=$((named + 1)); done
    check_eq "corruption: the 5 lines name 5 distinct damaged entries" 5 "$named"
    kinds=0
    for e in "${DAMAGED[@]}"; do [ -f "$e" ] && [ ! -L "$e" ] && kinds=$((kinds + 1)); done
    check_eq "corruption: the 6 damaged entries are regular files again" 6 "$kinds"
    [ -f "$T/outside/valid-entry" ] && [ ! -L "$T/outside/valid-entry" ] &&
        check_eq "corruption: the symlink's target outside the cache is unchanged" "$OUTSIDE_SUM" "$(sha256_of "$T/outside/valid-entry")" ||
        fail "corruption: the symlink's target outside the cache is unchanged" "gone or replaced"
    build bad-again "$A" "$T/bad-again" "${GZIP_ARGS[@]}" --cache "$C"
    built_ok "corruption: the rebuild after" $? "$T/bad-again" "${REF[gzip]}"
    stats_are bad-again "hits=$n misses=0 corrupt=0 bypassed=0"
    check_eq "corruption: the rebuild after: no cache warning" "" "$(cache_warnings bad-again)"

    # One damage at a time, each on an entry alone in its shard directory:
    # a directory, a FIFO (must not block the build), a 300 MiB sparse file
    # (refused by its size, not read), the shard directory replaced by a
    # symlink to a copy of it outside the cache (nothing there may be read,
    # removed or written). Each: one warning naming the entry, recomputed,
    # stored; the next build hits everything. Each on a copy of the cache.
    mapfile -t LONE < <(cd "$C" && find chunks -mindepth 2 -maxdepth 2 | awk -F/ '{print $2, $0}' | sort | uniq -c -w 3 | awk '$1 == 1 {print $3}')
    k=0
    for kind in directory fifo huge shard-symlink; do
        [ -n "${LONE[$k]:-}" ] || { fail "corruption ($kind): an entry alone in its shard" "none left"; continue; }
        CK=$T/cache-$kind
        cp -a "$C" "$CK"
        e=$CK/${LONE[$k]}
        k=$((k + 1))
        shard=$(dirname "$e")
        case $kind in
            directory) rm "$e" && mkdir "$e" ;;
            fifo) rm "$e" && mkfifo "$e" ;;
            huge) truncate -s 300M "$e" ;;
            shard-symlink)
                cp -a "$shard" "$T/outside/shard" && rm -rf "$shard" && ln -s "$T/outside/shard" "$shard"
                OUTSIDE_SHARD=$(cd "$T/outside/shard" && find . -printf '%p %y %s\n' | sort && find . -type f -exec sha256sum {} +)
                ;;
        esac
        timeout 120 "$OCIPACK" build "$A" -o "$T/bad-$kind" --tag t -q --stats --chunk-size 64K "${GZIP_ARGS[@]}" \
            --cache "$CK" </dev/null >"$T/bad-$kind.out" 2>"$T/bad-$kind.err"
        built_ok "corruption ($kind): rebuild" $? "$T/bad-$kind" "${REF[gzip]}"
        stats_are "bad-$kind" "hits=$((n - 1)) misses=1 corrupt=1 bypassed=0"
        cache_warnings "bad-$kind" >"$T/$kind-warnings"
        check_eq "corruption ($kind): one cache warning line, naming the entry" \
            "1 1" "$(grep -c '' "$T/$kind-warnings") $(grep -cF "cache entry $e" "$T/$kind-warnings")"
        # A symlink below chunks/ is never the cache's own: like a symlinked
        # entry, a symlinked shard is removed (not its target) and made a
        # directory again; left, every build warns twice and that shard never caches.
        [ -f "$e" ] && [ ! -L "$e" ] && [ ! -L "$shard" ] && pass "corruption ($kind): replaced by a valid entry file (in a real shard directory)" ||
            fail "corruption ($kind): replaced by a valid entry file (in a real shard directory)" "shard, entry: $(stat -c %F "$shard" "$e" 2>&1 | tr '\n' ' ')"
        if [ "$kind" = shard-symlink ]; then
            check_eq "corruption ($kind): the directory outside the cache is unchanged (nothing removed or written)" \
                "$OUTSIDE_SHARD" "$(cd "$T/outside/shard" && find . -printf '%p %y %s\n' | sort && find . -type f -exec sha256sum {} +)"
        fi
        build "bad-$kind-again" "$A" "$T/bad-$kind-again" "${GZIP_ARGS[@]}" --cache "$CK"
        built_ok "corruption ($kind): the rebuild after" $? "$T/bad-$kind-again" "${REF[gzip]}"
        stats_are "bad-$kind-again" "hits=$n misses=0 corrupt=0 bypassed=0"
    done

    # builds.log a symlink to a file outside: not followed, not written.
    CK=$T/cache-log-link
    cp -a "$C" "$CK"
    printf 'not a cache log\n' >"$T/outside/log"
    rm -f "$CK/builds.log" && ln -s "$T/outside/log" "$CK/builds.log"
    build log-link "$A" "$T/log-link" "${GZIP_ARGS[@]}" --cache "$CK"
    built_ok "builds.log a symlink: build" $? "$T/log-link" "${REF[gzip]}"
    stats_are log-link "hits=$n misses=0 corrupt=0 bypassed=0"
    check_eq "builds.log a symlink: the file outside is unchanged, the link too" "not a cache log $T/outside/log" \
        "$(cat "$T/outside/log") $(readlink "$CK/builds.log")"
fi
echo "# [$SECONDS s]"

# ===========================================================================
echo "# 4. full disk, a cache that is not a directory"
mkdir -p "$T/small"
if mount -t tmpfs -o size=512k tmpfs "$T/small" 2>"$T/mount.err"; then
    SMALL_MOUNT=$T/small
    build full "$A" "$T/full" "${GZIP_ARGS[@]}" --cache "$T/small"
    built_ok "full disk: build with a 512 KiB cache (3 MiB of entries)" $? "$T/full" "${REF[gzip]}"
    cache_warnings full >"$T/full-warnings"
    check_eq "full disk: one cache warning line" 1 "$(grep -c '' "$T/full-warnings")"
    check_contains "full disk: it names the cache and goes on without storing" "$T/full-warnings" \
        "^ocipack: warning: cache $T/small: .*(No space left on device|ENOSPC).*going on without storing"
    check_eq "full disk: no temp file left in the cache" 0 "$(temp_files "$T/small")"
    build full-again "$A" "$T/full-again" "${GZIP_ARGS[@]}" --cache "$T/small"
    built_ok "full disk: rebuild from the full cache" $? "$T/full-again" "${REF[gzip]}"
    h=$(stat_of full-again hits)
    [ "$h" != none ] && [ "$h" -ge 1 ] && [ "$(stat_of full-again corrupt)" = 0 ] &&
        pass "full disk: what was stored is valid ($h hits, 0 corrupt)" ||
        fail "full disk: what was stored is valid" "hits $h, corrupt $(stat_of full-again corrupt)"
    # The same cache read-only (a shared cache mounted ro): it still hits.
    stored=$(entry_count "$T/small")
    if mount -o remount,ro "$T/small"; then
        build ro "$A" "$T/ro" "${GZIP_ARGS[@]}" --cache "$T/small"
        built_ok "read-only cache: build" $? "$T/ro" "${REF[gzip]}"
        check_eq "read-only cache: every stored entry hit, none corrupt" "$stored 0" "$(stat_of ro hits) $(stat_of ro corrupt)"
        check_contains "read-only cache: a warning names the cache and goes on without storing" "$T/ro.err" \
            "^ocipack: warning: cache $T/small: .*Read-only file system.*going on without storing"
    else
        fail "read-only cache: remount the tmpfs read-only" "mount failed"
    fi
    umount "$T/small" && SMALL_MOUNT=""
else
    fail "full disk: mount a 512 KiB tmpfs (as root)" "$(head -1 "$T/mount.err")"
fi

cp -a "$T/gzip-ref" "$T/filecache-layout"
cp "$T/filecache-layout/index.json" "$T/index.before"
: >"$T/cache-file"
"$OCIPACK" build "$A2" -o "$T/filecache-layout" --tag other -q --cache "$T/cache-file" >"$T/filecache.out" 2>"$T/filecache.err"
rc=$?
[ $rc -ne 0 ] && pass "--cache naming a regular file: exit $rc" || fail "--cache naming a regular file: fails" "exit 0"
grep -v 'skipping socket' "$T/filecache.err" >"$T/filecache.err2"
one_error_line "--cache naming a regular file" "$T/filecache.err2" "--cache"
check "--cache naming a regular file: index.json of the layout unchanged" cmp "$T/index.before" "$T/filecache-layout/index.json"
check_eq "--cache naming a regular file: the file is unchanged" 0 "$(stat -c %s "$T/cache-file")"

# DIR/chunks a symlink to a directory of valid entries elsewhere: not
# followed (refused like a --cache that is not a directory), nothing there
# read or changed.
C=$T/cache-chunks-link
build link-cold "$A" "$T/link-cold" "${GZIP_ARGS[@]}" --cache "$C"
mv "$C/chunks" "$T/outside/chunks" && ln -s "$T/outside/chunks" "$C/chunks"
outside_before=$(cd "$T/outside/chunks" && find . -printf '%p %y %s %T@\n' | sort | md5sum)
"$OCIPACK" build "$A" -o "$T/filecache-layout" --tag other -q --cache "$C" >"$T/chunks-link.out" 2>"$T/chunks-link.err"
rc=$?
[ $rc -ne 0 ] && pass "DIR/chunks a symlink: refused, exit $rc" || fail "DIR/chunks a symlink: refused" "exit 0"
grep -v 'skipping socket' "$T/chunks-link.err" >"$T/chunks-link.err2"
one_error_line "DIR/chunks a symlink" "$T/chunks-link.err2" "--cache .*chunks"
check "DIR/chunks a symlink: index.json of the layout unchanged" cmp "$T/index.before" "$T/filecache-layout/index.json"
check_eq "DIR/chunks a symlink: the directory it points to is unchanged" "$outside_before" \
    "$(cd "$T/outside/chunks" && find . -printf '%p %y %s %T@\n' | sort | md5sum)"
echo "# [$SECONDS s]"

# ===========================================================================
echo "# 5. bounded: --cache-max-size, LRU, cache stats / prune, bad values"
C=$T/cache-max
build max "$A" "$T/max" "${GZIP_ARGS[@]}" --cache "$C" --cache-max-size 200K
built_ok "--cache-max-size 200K: build" $? "$T/max" "${REF[gzip]}"
mapfile -t E < <(entries "$C")
size=$(bytes_of "${E[@]}")
[ "${#E[@]}" -ge 1 ] && [ "$size" -le 204800 ] && pass "--cache-max-size 200K: the cache holds $size bytes in ${#E[@]} entries" ||
    fail "--cache-max-size 200K: the cache holds at most 200K and something" "$size bytes in ${#E[@]} entries"
"$OCIPACK" cache stats "$C" >"$T/max-stats.out" 2>&1
check_contains "cache stats: the entry count" "$T/max-stats.out" "^cache $C: ${#E[@]} entries, "

# LRU. Tree B shares no chunk with tree A.
B=$T/treeB
mkdir -p "$B/data"
head -c 1M /dev/urandom >"$B/data/random.bin"
C=$T/cache-lru
build lru-a "$A" "$T/lru-a" "${GZIP_ARGS[@]}" --cache "$C"
mapfile -t EA < <(entries "$C")
build lru-b "$B" "$T/lru-b" "${GZIP_ARGS[@]}" --cache "$C"
mapfile -t EB < <(entries "$C" | grep -vxF -f <(printf '%s\n' "${EA[@]}"))
size_a=$(bytes_of "${EA[@]}") size_b=$(bytes_of "${EB[@]}")
echo "#   tree A: ${#EA[@]} entries, $size_a bytes; tree B: ${#EB[@]} entries, $size_b bytes"
[ "${#EB[@]}" -ge 10 ] && pass "LRU: tree B added ${#EB[@]} entries" || fail "LRU: tree B added entries" "${#EB[@]}"
# left_of LIST... : how many of these entries exist.
left_of() { local e k=0; for e in "$@"; do [ -e "$e" ] && k=$((k + 1)); done; echo $k; }
touch -d '2 days ago' "${EA[@]}"
check "LRU: cache prune --max-size (B's bytes)" "$OCIPACK" cache prune "$C" --max-size "$size_b"
check_eq "LRU: the older entries (A's) are gone, B's are kept" "0 ${#EB[@]}" "$(left_of "${EA[@]}") $(left_of "${EB[@]}")"
# Hits refresh: everything 2 days old, then a warm build of A, then prune to A's size.
build lru-a2 "$A" "$T/lru-a2" "${GZIP_ARGS[@]}" --cache "$C"
touch -d '2 days ago' "${EA[@]}" "${EB[@]}"
build lru-a3 "$A" "$T/lru-a3" "${GZIP_ARGS[@]}" --cache "$C"
stats_are lru-a3 "hits=$(stat_of gzip-cold misses) misses=0 corrupt=0 bypassed=0"
fresh=$(find "${EA[@]}" -mmin -60 | grep -c '')
check_eq "LRU: a hit on a 2-day-old entry sets its mtime to now" "${#EA[@]}" "$fresh"
check "LRU: cache prune --max-size (A's bytes)" "$OCIPACK" cache prune "$C" --max-size "$size_a"
check_eq "LRU: after hits on A, B's entries are pruned first" "${#EA[@]} 0" "$(left_of "${EA[@]}") $(left_of "${EB[@]}")"
# Uses within an hour are one use: a hit does not touch a 30-minute-old entry.
touch -d '30 minutes ago' "${EA[@]}"
before=$(stat -c %Y "${EA[@]}" | md5sum)
build lru-a4 "$A" "$T/lru-a4" "${GZIP_ARGS[@]}" --cache "$C"
check_eq "LRU: a hit leaves an entry used 30 minutes ago untouched" "$before" "$(stat -c %Y "${EA[@]}" | md5sum)"

# `cache prune` removes temp files older than an hour (left by a crashed
# build), not younger ones (a running build's).
shard=$(dirname "${EA[0]}")
printf 'torn' >"$shard/.tmp-0123456789abcdef-old" && touch -d '2 hours ago' "$shard/.tmp-0123456789abcdef-old"
printf 'busy' >"$shard/.tmp-0123456789abcdef-new"
check "cache prune with temp files" "$OCIPACK" cache prune "$C"
check_eq "cache prune: the 2-hour-old temp file is removed, the fresh one kept" "absent present" \
    "$([ -e "$shard/.tmp-0123456789abcdef-old" ] && echo present || echo absent) $([ -e "$shard/.tmp-0123456789abcdef-new" ] && echo present || echo absent)"
rm -f "$shard/.tmp-0123456789abcdef-new"

"$OCIPACK" cache stats "$C" >"$T/lru-stats.out" 2>&1
check_contains "cache stats: entries of the cache" "$T/lru-stats.out" "^cache $C: ${#EA[@]} entries, [0-9.]+ (B|KiB|MiB)$"
check_eq "cache stats: one line per build (5)" 5 "$(grep -cE '^  build [0-9T:-]+Z: [0-9]+ of [0-9]+ chunks reused \([0-9]+ remote\), [0-9]+ corrupt, [0-9.]+ s saved$' "$T/lru-stats.out")"
rate=$(for b in lru-a lru-b lru-a2 lru-a3 lru-a4; do echo "$(stat_of $b hits) $(stat_of $b misses)"; done |
       awk '{h += $1; c += $1 + $2} END {printf "%.1f", 100 * h / c}')
check_contains "cache stats: the hit rate of those builds ($rate%)" "$T/lru-stats.out" "^hit rate of the last 5 builds: $rate%$"
# builds.log stays short: 4000 old lines (one of them not a record, which
# stats skips) are cut to the last 200 when the next build appends.
{
    for ((i = 0; i < 4000; i++)); do
        [ $i -eq 3995 ] && echo "build finished=17000 hits=garbage"
        echo "build finished=1700000000 hits=1 remote_hits=0 misses=1 corrupt=0 saved_ns=0"
    done
} >"$C/builds.log"
build lru-log "$A" "$T/lru-log" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "a long builds.log: build" $? "$T/lru-log" "${REF[gzip]}"
lines=$(grep -c '' "$C/builds.log")
[ "$lines" -le 201 ] && [ "$lines" -ge 10 ] && pass "a long builds.log is cut to its last lines ($lines)" ||
    fail "a long builds.log is cut to its last lines" "$lines lines"
"$OCIPACK" cache stats "$C" >"$T/log-stats.out" 2>&1
check_eq "cache stats after: the last 10 builds, the new one last" "10 $n of $n" \
    "$(grep -c '^  build ' "$T/log-stats.out") $(grep '^  build ' "$T/log-stats.out" | tail -1 | grep -oE '[0-9]+ of [0-9]+')"
check "cache prune --max-size 0" "$OCIPACK" cache prune "$C" --max-size 0
check_eq "cache prune --max-size 0: no entry left" 0 "$(entry_count "$C")"
"$OCIPACK" cache stats "$C" >"$T/empty-stats.out" 2>&1
check_contains "cache stats of the emptied cache: 0 entries" "$T/empty-stats.out" "^cache $C: 0 entries, "
# A mistyped DIR is not made into a cache by looking at it.
"$OCIPACK" cache stats "$T/no-such-cache" >"$T/nodir.out" 2>&1
"$OCIPACK" cache prune "$T/no-such-cache2" --max-size 0 >>"$T/nodir.out" 2>&1
check_eq "cache stats / prune of a missing DIR do not create it" "absent absent" \
    "$([ -e "$T/no-such-cache" ] && echo created || echo absent) $([ -e "$T/no-such-cache2" ] && echo created || echo absent)"

# bad_value NAME REGEX ARGS... : ocipack ARGS exits 2 with one error line
# matching REGEX, and (a build) writes no layout.
bad_value() {
    local name=$1 re=$2 rc
    shift 2
    rm -rf "$T/bad-out"
    "$OCIPACK" "$@" >"$T/bad.out" 2>"$T/bad.err"
    rc=$?
    check_eq "$name: exit 2" 2 $rc
    one_error_line "$name" "$T/bad.err" "$re"
    [ "$1" = build ] || return 0
    [ ! -e "$T/bad-out" ] && pass "$name: no layout written" || fail "$name: no layout written" "$T/bad-out exists"
}
bad_value "--cache-max-size 5X" "--cache-max-size" build "$A" -o "$T/bad-out" -q --cache "$T/c-bad" --cache-max-size 5X
bad_value "--cache-remote-timeout 0" "--cache-remote-timeout" build "$A" -o "$T/bad-out" -q --cache "$T/c-bad" --cache-remote-timeout 0
bad_value "--cache-remote without --cache" "--cache-remote" build "$A" -o "$T/bad-out" -q --cache-remote http://127.0.0.1:9/
bad_value "--no-cache --cache DIR" "--no-cache" build "$A" -o "$T/bad-out" -q --no-cache --cache "$T/c-bad"
bad_value "cache prune --max-size 5X" "--max-size" cache prune "$T/cache-lru" --max-size 5X
[ ! -e "$T/c-bad" ] && pass "bad cache flags: the cache directory is not created" || fail "bad cache flags: the cache directory is not created" "exists"
echo "# [$SECONDS s]"

# ===========================================================================
echo "# 6. SIGINT during a cold build with --cache"
BIG=$T/big
mkdir -p "$BIG"
head -c 16M /dev/urandom >"$BIG/random.bin"
base64 -w 100 "$BIG/random.bin" | head -c 16M >"$BIG/text.txt"
C=$T/cache-int
build int-ref "$BIG" "$T/int-ref" "${GZIP_ARGS[@]}" --threads 2 || fail "SIGINT: build without cache" "$(tail -2 "$T/int-ref.err")"
# signal_cold_build NAME SIGNAL CACHE : a cold build of BIG (one thread,
# 512 chunks) into an empty CACHE, sent SIGNAL once 20 entries are stored;
# sets RC and KEPT (entries stored).
signal_cold_build() {
    local name=$1 sig=$2 cache=$3 pid i written
    rm -rf "${T:?}/$name"
    "$OCIPACK" build "$BIG" -o "$T/$name" --tag t -q --chunk-size 64K --threads 1 --cache "$cache" \
        </dev/null >"$T/$name.out" 2>"$T/$name.err" &
    pid=$!
    # Chunks are stored once the layer's blob is written (a pack, or entry
    # files read back from it): wait until 2 MiB of the blob are.
    for ((i = 0; i < 1500; i++)); do
        written=$(bytes_of $(find "$T/$name/blobs/sha256" -name '.blob*' -type f 2>/dev/null))
        [ "$written" -ge $((2 << 20)) ] && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.02
    done
    kill "-$sig" $pid
    wait $pid
    RC=$?
    KEPT=$("$OCIPACK" cache stats "$cache" 2>/dev/null | sed -n 's/^cache .*: \([0-9]*\) entries, .*/\1/p')
    echo "#   SIG$sig after $written blob bytes were written -> exit $RC, $KEPT chunks kept"
}
# next_build_reuses NAME SIGNAL CACHE : the build after: right digest, the kept entries hit, none corrupt.
next_build_reuses() {
    local h
    build "$1-next" "$BIG" "$T/$1-next" "${GZIP_ARGS[@]}" --threads 2 --cache "$3"
    built_ok "SIG$2: the next build" $? "$T/$1-next" "$(digests "$T/int-ref")"
    h=$(stat_of "$1-next" hits)
    [ "$h" != none ] && [ "$h" -ge "$KEPT" ] && [ "$(stat_of "$1-next" corrupt)" = 0 ] &&
        pass "SIG$2: the next build reuses what was stored ($h hits, 0 corrupt)" ||
        fail "SIG$2: the next build reuses what was stored" "hits $h of $KEPT, corrupt $(stat_of "$1-next" corrupt)"
}
signal_cold_build int INT "$C"
# What was compressed is kept: the unfinished blob, hard-linked as a pack.
[ "${KEPT:-0}" -ge 20 ] && [ "$KEPT" -lt 500 ] && pass "SIGINT: the build stopped part way ($KEPT of 512 chunks kept)" ||
    fail "SIGINT: the build stopped part way" "${KEPT:-none} chunks kept"
check_eq "SIGINT: one pack kept" 1 "$(find "$C/packs" -name '*.pack' | grep -c '')"
check_eq "SIGINT: exit 130" 130 $RC
one_error_line "SIGINT" "$T/int.err" "^ocipack: error: interrupted"
check_eq "SIGINT: no temp file left in the cache" 0 "$(temp_files "$C")"
next_build_reuses int INT "$C"
# SIGKILL: nothing is stored (chunks are stored after the blob); temp files
# that may stay (a later prune removes them after an hour) are not entries
# and the next build is not misled by them.
C=$T/cache-kill
signal_cold_build kill KILL "$C"
check_eq "SIGKILL: killed" 137 $RC
check_eq "SIGKILL: cache stats counts no chunk" 0 "${KEPT:-none}"
next_build_reuses kill KILL "$C"
echo "# [$SECONDS s]"

# ===========================================================================
echo "# 7. Packs: a cold build that compressed most of a layer links its blob into the cache"
P=$T/packtree
mkdir -p "$P/usr/bin" "$P/etc"
head -c 40M /dev/urandom >"$P/usr/bin/big"
printf 'pack\n' >"$P/etc/hostname"
build pack-ref "$P" "$T/pack-ref" "${GZIP_ARGS[@]}" --no-cache || fail "packs: build without cache" "$(tail -2 "$T/pack-ref.err")"
PREF=$(digests "$T/pack-ref")
C=$T/cache-pack
build pack-cold "$P" "$T/pack-cold" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "packs: cold build" $? "$T/pack-cold" "$PREF"
n=$(stat_of pack-cold misses)
layer=$(jq -r '.layers[0].digest' "$(blob_path "$T/pack-cold" "$(layout_manifest_digest "$T/pack-cold" t)")")
layer=${layer#sha256:}
check_eq "packs: one pack, named by the layer's digest" "$layer.idx $layer.pack" "$(ls "$C/packs" | tr '\n' ' ' | sed 's/ $//')"
check_eq "packs: the pack is the layout's blob (one inode, not a copy)" \
    "$(stat -c %i "$T/pack-cold/blobs/sha256/$layer")" "$(stat -c %i "$C/packs/$layer.pack")"
check_eq "packs: no entry file written beside it" 0 "$(entry_count "$C")"
"$OCIPACK" cache stats "$C" >"$T/pack-stats.out" 2>&1
check_contains "packs: cache stats counts its $n chunks" "$T/pack-stats.out" "^cache $C: $n entries, "
build pack-warm "$P" "$T/pack-warm" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "packs: warm build" $? "$T/pack-warm" "$PREF"
stats_are pack-warm "hits=$n misses=0 corrupt=0 bypassed=0"
# The layout's blob gone (gc, rm -rf): the pack keeps the inode.
rm -rf "$T/pack-cold"
build pack-warm2 "$P" "$T/pack-warm2" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "packs: warm build after the first layout is removed" $? "$T/pack-warm2" "$PREF"
stats_are pack-warm2 "hits=$n misses=0 corrupt=0 bypassed=0"
# A small change: its few chunks go to entry files, the pack stays.
printf 'changed\n' >"$P/etc/hostname"
build pack-ref2 "$P" "$T/pack-ref2" "${GZIP_ARGS[@]}" --no-cache
build pack-small "$P" "$T/pack-small" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "packs: one file changed" $? "$T/pack-small" "$(digests "$T/pack-ref2")"
m=$(stat_of pack-small misses)
[ "$m" -ge 1 ] && [ "$m" -le 3 ] && [ "$(entry_count "$C")" = "$m" ] &&
    pass "packs: one file changed: its $m chunks stored as entry files" ||
    fail "packs: one file changed: its chunks stored as entry files" "misses $m, entries $(entry_count "$C")"
check_eq "packs: one file changed: still one pack" 1 "$(find "$C/packs" -name '*.pack' | grep -c '')"
# The blob rewritten in place (a cold build's layout holds the pack's
# inode; a tool writing into it changes both): caught by the chunks' CRC,
# one warning, the pack dropped, the layer right.
dd if=/dev/zero of="$C/packs/$layer.pack" bs=1 count=16 seek=1000000 conv=notrunc status=none
printf 'pack\n' >"$P/etc/hostname"
build pack-damaged "$P" "$T/pack-damaged" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "packs: a pack changed in place" $? "$T/pack-damaged" "$PREF"
cache_warnings pack-damaged >"$T/pack-damaged.warn"
check_eq "packs: a pack changed in place: one warning" 1 "$(grep -c '' "$T/pack-damaged.warn")"
check_contains "packs: the warning names the pack and the offset" "$T/pack-damaged.warn" \
    "cache pack $C/packs/$layer.pack: chunk at offset [0-9]+: checksum mismatch; pack dropped, recomputed"
build pack-healed "$P" "$T/pack-healed" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "packs: the build after" $? "$T/pack-healed" "$PREF"
stats_are pack-healed "hits=$n misses=0 corrupt=0 bypassed=0"
# A planted index: refused with one warning, removed, never trusted.
printf 'OCPKIX01 garbage' >"$C/packs/$(printf 'a%.0s' $(seq 64)).idx"
cp "$P/usr/bin/big" "$C/packs/$(printf 'a%.0s' $(seq 64)).pack"
build pack-planted "$P" "$T/pack-planted" "${GZIP_ARGS[@]}" --cache "$C"
built_ok "packs: a planted index" $? "$T/pack-planted" "$PREF"
check_contains "packs: a planted index: a warning names it" "$T/pack-planted.err" \
    "warning: cache pack index $C/packs/a{64}.idx: [a-z ]+; removed"
check "packs: a planted index is removed" test ! -e "$C/packs/$(printf 'a%.0s' $(seq 64)).idx"
# Two cold builds at once into one new cache: both right, one pack.
C=$T/cache-pack2
build pack-conc1 "$P" "$T/pack-conc1" "${GZIP_ARGS[@]}" --cache "$C" & pid1=$!
build pack-conc2 "$P" "$T/pack-conc2" "${GZIP_ARGS[@]}" --cache "$C" & pid2=$!
wait $pid1; rc1=$?
wait $pid2; rc2=$?
built_ok "packs: two cold builds at once (1)" $rc1 "$T/pack-conc1" "$PREF"
built_ok "packs: two cold builds at once (2)" $rc2 "$T/pack-conc2" "$PREF"
check_eq "packs: two cold builds at once: one pack, no temp file" "1 0" \
    "$(find "$C/packs" -name '*.pack' | grep -c '') $(temp_files "$C")"
# prune --max-size 0 removes the pack (the cache's name only).
"$OCIPACK" cache prune "$C" --max-size 0 >"$T/pack-prune.out" 2>&1
check_eq "packs: prune --max-size 0 leaves no pack" 0 "$(find "$C/packs" -type f | grep -c '')"
check "packs: prune left the layout's blob" test -s "$T/pack-conc1/blobs/sha256/$layer"
# The cache on another file system than the layout (tmpfs): no hard link,
# so entry files, read back from the blob.
if [ "$(stat -c %d /dev/shm 2>/dev/null)" != "" ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$T")" ]; then
    C=$(mktemp -d /dev/shm/ocipack-pack-XXXXXX)
    build pack-xdev "$P" "$T/pack-xdev" "${GZIP_ARGS[@]}" --cache "$C"
    built_ok "packs: cache on another file system" $? "$T/pack-xdev" "$PREF"
    check_eq "packs: cache on another file system: entry files, no pack" "$n 0" \
        "$(entry_count "$C") $(find "$C/packs" -name '*.pack' 2>/dev/null | grep -c '')"
    build pack-xdev-warm "$P" "$T/pack-xdev-warm" "${GZIP_ARGS[@]}" --cache "$C"
    stats_are pack-xdev-warm "hits=$n misses=0 corrupt=0 bypassed=0"
    rm -rf "$C"
else
    skip "packs: cache on another file system" "/dev/shm is not another file system here"
fi
echo "# [$SECONDS s]"

# Warnings are for people: the library's field names stay inside (cli/errors.cc maps them for errors).
grep -h '^ocipack: warning: .*cache\.dir' "$T"/*.err >"$T/field-names" 2>/dev/null
check_eq "no cache warning of any build shows the field name cache.dir" 0 "$(grep -c '' "$T/field-names")"
show_tail "$T/field-names" 4

finish
