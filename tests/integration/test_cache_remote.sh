#!/bin/bash
# test_cache_remote.sh OCIPACK
#
# The chunk cache shared by many machines (issue 15): `--cache-remote URL`
# against Debian's nginx with WebDAV PUT, started by the test on
# 127.0.0.1:<free port> (lib_services.sh start_webdav), store in the scratch
# dir. Two "machines" are two local cache dirs:
#   - for gzip, zstd and zstd:chunked: machine A builds the generated tree
#     with an empty --cache A and the remote: every chunk is compressed and
#     PUT (one well-formed entry file per chunk appears in the server's
#     store); machine B, with an empty --cache B, builds the same tree from
#     the remote (remote hits ≥ 95 % of the chunks, here all of them); then
#     B's rebuild hits locally without asking the server. Every build's
#     layer and manifest digests equal a build without any cache.
#   - two machines filling an empty remote at the same time both succeed
#     with the same digests, and a third builds wholly from what they left.
# Faults, none of which may fail or change a build:
#   - corrupt entries on the server (a flipped byte, a truncated entry, an
#     HTML page instead of an entry, a valid entry of another chunk, and a
#     forged entry — right key, right CRC-64, another chunk's payload): not
#     used, counted as corrupt,
#     recomputed, and replaced on the server by correct entries (the bytes
#     the fresh local cache stored);
#   - the server stopped: exit 0, same digest, exactly one
#     "ocipack: warning: remote cache" line;
#   - a slow server (10 bytes/s) with --cache-remote-timeout 1: the same;
#   - a URL that is not http(s), or has a query: exit 2 with one error line
#     naming --cache-remote, no layout written.
# Answers of a real server (locations of the same nginx, start_webdav),
# where a unit test would need a scripted server — a mock:
#   - HTTP 500 and a 301 redirect (not followed: the target holds every
#     entry, and nginx's log shows no request outside /moved/): exit 0, same
#     digests, exactly one warning naming the request and the status;
#   - an entry of 300 MiB (sparse, above the 256 MiB limit): refused from
#     its Content-Length, peak memory of the build below 100 MiB;
#   - keep-alive: with --threads 2 a build's GETs and PUTs use ≤ 4
#     connections (nginx's $connection in the access log); a server that
#     closes each connection after 2 requests still gets every PUT;
#   - proxies from the environment (a closed port) are ignored;
#   - credentials in the URL reach the server (Basic user in the log) and no
#     output shows them (an HTTP 500, a stopped server);
#   - a read-only mirror (GET served, PUT 403): a machine with an empty cache
#     builds a tree with one file changed, ≥ 90 % of the chunks from the
#     mirror, the changed one compressed, one warning (storing stops).
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_services.sh"
init_test "${1:-}"
T=$TEST_TMP
COMMON=(--tag t:1 --created @1700000000 --chunk-size 64K -q --stats)

PATH=$PATH:/usr/sbin
if ! require_tool nginx python3 jq ss; then
    fail "remote cache" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi
bash "$(dirname "$0")/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
if ! start_webdav "$T/dav"; then
    skip "remote cache (all checks)" "$SERVICE_SKIP_REASON"
    finish
fi
check_eq "nginx listens only on ${WEBDAV_URL#http://}" "${WEBDAV_URL#http://}" \
    "$(tcp_listeners_of "$WEBDAV_PID" | sort -u | tr '\n' ' ' | sed 's/ $//')"
# libcurl is opened when a remote is named, never linked: a linked libcurl
# (and the ~35 libraries it pulls in) costs every command 8 ms at start.
check_eq "ocipack does not link libcurl (it is opened for a remote cache only)" "" \
    "$(readelf -d "$OCIPACK" | grep -o 'NEEDED.*libcurl[^]]*')"

# build NAME OUT ARGS...: ocipack build of $BUILD_ROOT (default $T/root) into
# $T/OUT, stdout and stderr (where --stats goes) in $T/NAME.out / $T/NAME.err;
# returns its status.
build() {
    local name=$1 out=$2
    shift 2
    "$OCIPACK" build "${BUILD_ROOT:-$T/root}" -o "$T/$out" "${COMMON[@]}" "$@" >"$T/$name.out" 2>"$T/$name.err"
}

# build_measured NAME OUT ARGS...: build, and the build's peak resident
# memory in KiB (getrusage of the child) in $T/NAME.rss.
# shellcheck disable=SC2317  # called through check
build_measured() {
    local name=$1 out=$2
    shift 2
    python3 -c 'import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)' "$T/$name.rss" "$OCIPACK" build "${BUILD_ROOT:-$T/root}" -o "$T/$out" "${COMMON[@]}" "$@" \
        >"$T/$name.out" 2>"$T/$name.err"
}

# digests OUT: the manifest digest and the layer digest of t:1.
digests() {
    local m
    m=$(layout_manifest_digest "$T/$1" t:1)
    [ -n "$m" ] || return 0
    echo "$m $(jq -r '.layers[0].digest' "$(blob_path "$T/$1" "$m")")"
}

# cache_figures NAME: "HITS REMOTE MISSES CORRUPT CHUNKS" from the --stats lines of a build.
cache_figures() {
    local cache chunks
    cache=$(sed -nE 's/^cache hits ([0-9]+) \(remote ([0-9]+)\), misses ([0-9]+), corrupt ([0-9]+),.*/\1 \2 \3 \4/p' "$T/$1.err")
    chunks=$(sed -nE 's/^chunks ([0-9]+),.*/\1/p' "$T/$1.err")
    echo "${cache:-none} ${chunks:-none}"
}

# remote_warnings NAME: the number of "ocipack: warning: remote cache" lines of a
# build (the remote failed), not counting the notes on corrupt remote entries.
remote_warnings() {
    grep '^ocipack: warning: remote cache' "$T/$1.err" | grep -vc '^ocipack: warning: remote cache entry '
}

# entries DIR: the entry files under DIR/chunks, as "ab/<hex>" lines, sorted.
entries() {
    [ -d "$1/chunks" ] || return 0
    (cd "$1/chunks" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

# malformed_entries DIR: how many entry names under DIR/chunks are not
# "ab/<64 hex digits beginning with ab>".
malformed_entries() {
    entries "$1" | grep -cvE '^([0-9a-f]{2})/\1[0-9a-f]{62}$'
}

# get_count: the GET requests in nginx's access log so far.
get_count() {
    grep -c '^GET ' "$WEBDAV_LOG"
}

# log_mark: the number of lines in nginx's access log so far; log_since MARK:
# the lines logged after it ("METHOD URI STATUS BYTES CONNECTION USER").
log_mark() {
    grep -c '' "$WEBDAV_LOG"
}
log_since() {
    tail -n "+$(($1 + 1))" "$WEBDAV_LOG"
}

# connections_since MARK: how many distinct connections served those requests.
connections_since() {
    log_since "$1" | awk '{ print $5 }' | sort -u | grep -c ''
}

# two_machines FORMAT: A fills the remote, B builds from it, B rebuilds locally.
two_machines() {
    local f=$1 d=${1//:/_} ref hits remote misses corrupt chunks stored gets
    check "$f: build without a cache" build "$d-ref" "$d-ref" --compression-format "$f" || return 1
    ref=$(digests "$d-ref")
    local url=$WEBDAV_URL/$d store=$WEBDAV_STORE/$d

    check "$f: machine A builds with an empty cache and the remote" \
        build "$d-A" "$d-A" --compression-format "$f" --cache "$T/$d-cache-A" --cache-remote "$url/"
    check_eq "$f: machine A's digests equal the build without a cache" "$ref" "$(digests "$d-A")"
    read -r hits remote misses corrupt chunks <<<"$(cache_figures "$d-A")"
    check_eq "$f: machine A compressed every chunk (hits remote misses corrupt)" "0 0 $chunks 0" "$hits $remote $misses $corrupt"
    stored=$(entries "$store" | grep -c '')
    check_eq "$f: machine A PUT one entry per chunk into the server's store" "$chunks" "$stored"
    check_eq "$f: every stored name is chunks/ab/ab<62 hex>" 0 "$(malformed_entries "$store")"
    check_eq "$f: the server's entries are the bytes of A's local entries" \
        "$(cd "$T/$d-cache-A/chunks" && entries "$T/$d-cache-A" | xargs sha256sum)" \
        "$(cd "$store/chunks" && entries "$store" | xargs sha256sum)"
    check_eq "$f: machine A: no remote cache warning" 0 "$(remote_warnings "$d-A")"

    check "$f: machine B builds with an empty cache from the remote" \
        build "$d-B" "$d-B" --compression-format "$f" --cache "$T/$d-cache-B" --cache-remote "$url"
    check_eq "$f: machine B's digests equal the build without a cache" "$ref" "$(digests "$d-B")"
    read -r hits remote misses corrupt chunks <<<"$(cache_figures "$d-B")"
    if [ "$chunks" != none ] && [ "$remote" != none ] && [ $((100 * remote)) -ge $((95 * chunks)) ] &&
        [ "$hits" = "$remote" ] && [ "$corrupt" = 0 ]; then
        pass "$f: machine B: $remote of $chunks chunks from the remote (≥ 95 %), $misses compressed"
    else
        fail "$f: machine B: ≥ 95 % of the chunks from the remote" "hits $hits remote $remote misses $misses corrupt $corrupt of $chunks chunks"
    fi
    check_eq "$f: machine B stored what it fetched in its local cache" \
        "$(entries "$store")" "$(entries "$T/$d-cache-B")"
    check_eq "$f: machine B: no remote cache warning" 0 "$(remote_warnings "$d-B")"

    gets=$(get_count)
    check "$f: machine B rebuilds" build "$d-B2" "$d-B2" --compression-format "$f" --cache "$T/$d-cache-B" --cache-remote "$url"
    check_eq "$f: machine B's rebuild has the same digests" "$ref" "$(digests "$d-B2")"
    read -r hits remote misses corrupt chunks <<<"$(cache_figures "$d-B2")"
    check_eq "$f: machine B's rebuild hits locally (hits remote misses corrupt)" "$chunks 0 0 0" "$hits $remote $misses $corrupt"
    check_eq "$f: machine B's rebuild asked the server nothing" "$gets" "$(get_count)"
}

for format in gzip zstd zstd:chunked; do
    two_machines "$format"
done

# ---------------------------------------------------------------- two machines at once (gzip)
# Both fill an empty remote prefix at the same time (racing GETs and PUTs of
# the same keys; nginx writes a PUT to a temp file and renames it).
REF=$(digests gzip-ref)
build both-1 both-1 --cache "$T/cache-both-1" --cache-remote "$WEBDAV_URL/both" &
BOTH_1=$!
build both-2 both-2 --cache "$T/cache-both-2" --cache-remote "$WEBDAV_URL/both" &
BOTH_2=$!
wait "$BOTH_1"
check_eq "two machines at once: the first exits 0" 0 "$?"
wait "$BOTH_2"
check_eq "two machines at once: the second exits 0" 0 "$?"
for n in 1 2; do
    check_eq "two machines at once: machine $n's digests" "$REF" "$(digests "both-$n")"
    check_eq "two machines at once: machine $n: no remote cache warning" 0 "$(remote_warnings "both-$n")"
done
read -r hits remote misses corrupt chunks <<<"$(cache_figures both-1)"
check_eq "two machines at once: the server holds one entry per chunk" "$chunks" "$(entries "$WEBDAV_STORE/both" | grep -c '')"
check "two machines at once: a third machine builds from what they left" \
    build both-3 both-3 --cache "$T/cache-both-3" --cache-remote "$WEBDAV_URL/both"
read -r hits remote misses corrupt chunks <<<"$(cache_figures both-3)"
check_eq "two machines at once: the third machine got every chunk from the remote (remote misses corrupt)" \
    "$chunks 0 0" "$remote $misses $corrupt"
check_eq "two machines at once: the third machine's digests" "$REF" "$(digests both-3)"

# ---------------------------------------------------------------- faults (gzip)
STORE=$WEBDAV_STORE/gzip
mapfile -t STORED < <(entries "$STORE")
if [ ${#STORED[@]} -lt 15 ]; then
    fail "faults" "only ${#STORED[@]} gzip entries on the server"
    services_stop_checked
    finish
fi

# Corrupt entries on the server: a flipped byte, a truncated entry, an HTML
# page, a valid entry of another chunk (misplaced), and a forged one: well
# formed, with the right key and a right CRC-64, but another chunk's payload.
FLIPPED=${STORED[1]} TRUNCATED=${STORED[4]} HTML=${STORED[7]} MISPLACED=${STORED[10]} FORGED=${STORED[13]}
python3 - "$STORE/chunks" "$FLIPPED" "$TRUNCATED" "$HTML" "$MISPLACED" "${STORED[11]}" "$FORGED" "${STORED[14]}" <<'EOF'
import struct, sys
store, flipped, truncated, html, misplaced, other, forged, donor = sys.argv[1:]
def path(name): return store + "/" + name
def read(name): return open(path(name), "rb").read()
def write(name, data): open(path(name), "wb").write(data)
def crc64_iso(data):  # Go's crc64.Update(0, MakeTable(ISO), data)
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ (0xD800000000000000 if crc & 1 else 0)
        table.append(crc)
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF
def parts(entry):  # (head up to the payload size, payload): magic 8, key 32, ns 8, count 4, sizes, size 8
    count = struct.unpack_from("<I", entry, 48)[0]
    at = 52 + 8 * count
    size = struct.unpack_from("<Q", entry, at)[0]
    return entry[:at], entry[at + 8:at + 8 + size]
data = bytearray(read(flipped))
data[len(data) // 2] ^= 0x01
write(flipped, data)
data = read(truncated)
write(truncated, data[: len(data) // 2])
write(html, b"<html><body><h1>502 Bad Gateway</h1></body></html>\n")
write(misplaced, read(other))
head, _ = parts(read(forged))
assert head[48:52] == b"\0\0\0\0", "a gzip entry has no frame table"
_, payload = parts(read(donor))
body = head + struct.pack("<Q", len(payload)) + payload
write(forged, body + struct.pack("<Q", crc64_iso(body)))
EOF
check "corrupt remote entries: the build succeeds" build corrupt corrupt --cache "$T/cache-corrupt" --cache-remote "$WEBDAV_URL/gzip"
check_eq "corrupt remote entries: same digests as without a cache" "$REF" "$(digests corrupt)"
read -r hits remote misses corrupt chunks <<<"$(cache_figures corrupt)"
check_eq "corrupt remote entries: 5 refused and recomputed, the rest from the remote (hits remote misses corrupt)" \
    "$((chunks - 5)) $((chunks - 5)) 5 5" "$hits $remote $misses $corrupt"
check_eq "corrupt remote entries: one warning line each, naming the entry" 5 \
    "$(grep -cE "^ocipack: warning: .*(${FLIPPED#*/}|${TRUNCATED#*/}|${HTML#*/}|${MISPLACED#*/}|${FORGED#*/})" "$T/corrupt.err")"
# The misplaced and forged entries pass the CRC-64: the key and the payload refuse them.
for e in "$MISPLACED" "$FORGED"; do
    check_eq "corrupt remote entries: ${e:0:12}… is refused after its checksum passed" "" \
        "$(grep -F "${e#*/}" "$T/corrupt.err" | grep -E 'checksum|truncated|not a cache entry')"
done
check_eq "corrupt remote entries: no 'remote cache' failure (the server answered)" 0 "$(remote_warnings corrupt)"
for e in "$FLIPPED" "$TRUNCATED" "$HTML" "$MISPLACED" "$FORGED"; do
    check "corrupt remote entries: ${e:0:12}… replaced on the server by the recomputed entry" \
        cmp "$STORE/chunks/$e" "$T/cache-corrupt/chunks/$e"
done
check_eq "corrupt remote entries: the fresh local cache holds every entry" "${STORED[*]}" "$(entries "$T/cache-corrupt" | tr '\n' ' ' | sed 's/ $//')"
check "corrupt remote entries: a second fresh machine builds from the repaired remote" \
    build repaired repaired --cache "$T/cache-repaired" --cache-remote "$WEBDAV_URL/gzip"
read -r hits remote misses corrupt chunks <<<"$(cache_figures repaired)"
check_eq "corrupt remote entries: after the repair every chunk comes from the remote (remote misses corrupt)" \
    "$chunks 0 0" "$remote $misses $corrupt"
check_eq "corrupt remote entries: the repaired build's digests" "$REF" "$(digests repaired)"

# ---------------------------------------------------------------- answers of a real server (gzip)
# Locations of the same nginx (lib_services.sh start_webdav) over the same
# store. A remote that answers anything but 200/404 is left alone for the
# rest of the build: exit 0, the same digests, exactly one warning.
USER_URL=http://builder:secret-w0rd@${WEBDAV_URL#http://}

# no_credentials_shown NAME: "" when no output of build NAME shows the user or password.
no_credentials_shown() {
    grep -lE 'secret|builder' "$T/$1.out" "$T/$1.err"
}

# An HTTP 500, with credentials in the URL: sent to the server, never printed.
MARK=$(log_mark)
check "HTTP 500: the build succeeds" build err err --cache "$T/cache-err" --cache-remote "$USER_URL/err/gzip"
check_eq "HTTP 500: same digests as without a cache" "$REF" "$(digests err)"
read -r hits remote misses corrupt chunks <<<"$(cache_figures err)"
check_eq "HTTP 500: every chunk compressed (hits misses)" "0 $chunks" "$hits $misses"
check_eq "HTTP 500: exactly one remote cache warning" 1 "$(remote_warnings err)"
check_contains "HTTP 500: the warning names the request, without the credentials, and the status" "$T/err.err" \
    "^ocipack: warning: remote cache.* GET $WEBDAV_URL/err/gzip/chunks/[0-9a-f]{2}/[0-9a-f]{64}: HTTP 500"
check_eq "HTTP 500: the credentials reached the server (Basic user 'builder' in the access log)" builder \
    "$(log_since "$MARK" | awk '$2 ~ "^/err/" { print $6 }' | sort -u)"
check_eq "HTTP 500: no output shows the user or the password" "" "$(no_credentials_shown err)"
grep '^ocipack: warning: remote cache' "$T/err.err" | sed 's/^/# /'

# A redirect (301 to the store that holds every entry): not followed.
MARK=$(log_mark)
check "HTTP 301: the build succeeds" build moved moved --cache "$T/cache-moved" --cache-remote "$WEBDAV_URL/moved/gzip"
check_eq "HTTP 301: same digests as without a cache" "$REF" "$(digests moved)"
read -r hits remote misses corrupt chunks <<<"$(cache_figures moved)"
check_eq "HTTP 301: every chunk compressed (hits remote misses)" "0 0 $chunks" "$hits $remote $misses"
check_eq "HTTP 301: exactly one remote cache warning" 1 "$(remote_warnings moved)"
check_contains "HTTP 301: the warning says redirects are not followed" "$T/moved.err" \
    "^ocipack: warning: remote cache.* GET $WEBDAV_URL/moved/gzip/chunks/[0-9a-f/]+: HTTP 301 \(redirects are not followed\)"
check_eq "HTTP 301: nginx answered 301" yes \
    "$(log_since "$MARK" | grep -qE '^GET /moved/gzip/chunks/[0-9a-f/]+ 301 ' && echo yes)"
check_eq "HTTP 301: the redirect was not followed (no request outside /moved/)" "" \
    "$(log_since "$MARK" | grep -v '^[A-Z]* /moved/')"

# An entry above the limit (256 MiB): a sparse 300 MiB file at an entry's
# path, in a copy of the store. Refused from its Content-Length, never read.
cp -a "$STORE" "$WEBDAV_STORE/big"
BIG=${STORED[2]}
truncate -s 300M "$WEBDAV_STORE/big/chunks/$BIG"
MARK=$(log_mark)
check "entry too large: the build succeeds" build_measured big big --cache "$T/cache-big" --cache-remote "$WEBDAV_URL/big"
check_eq "entry too large: same digests as without a cache" "$REF" "$(digests big)"
check_eq "entry too large: nginx served the 300 MiB entry (status 200)" yes \
    "$(log_since "$MARK" | grep -q "^GET /big/chunks/$BIG 200 " && echo yes)"
check_eq "entry too large: exactly one remote cache warning" 1 "$(remote_warnings big)"
check_contains "entry too large: the warning names the entry and says it is too large" "$T/big.err" \
    "^ocipack: warning: remote cache.* GET $WEBDAV_URL/big/chunks/$BIG: too large"
RSS=$(cat "$T/big.rss" 2>/dev/null)
check_eq "entry too large: peak memory below 100 MiB (${RSS:-?} KiB; the body was not read)" yes \
    "$([ "${RSS:-999999999}" -lt 102400 ] && echo yes)"
check_eq "entry too large: the local cache holds no file of 1 MiB or more" "" \
    "$(find "$T/cache-big" -type f -size +1M)"
rm -f "$WEBDAV_STORE/big/chunks/$BIG"

# Keep-alive: machine A with 2 threads fills an empty prefix (a GET and a
# PUT per chunk); nginx's connection numbers show how many connections it used.
MARK=$(log_mark)
check "keep-alive: machine A (--threads 2) fills an empty prefix" \
    build ka ka --threads 2 --cache "$T/cache-ka" --cache-remote "$WEBDAV_URL/ka"
check_eq "keep-alive: machine A's digests" "$REF" "$(digests ka)"
read -r hits remote misses corrupt chunks <<<"$(cache_figures ka)"
check_eq "keep-alive: machine A: one GET and one PUT per chunk" "$chunks $chunks" \
    "$(log_since "$MARK" | grep -c '^GET /ka/chunks/.* 404 ') $(log_since "$MARK" | grep -cE '^PUT /ka/chunks/.* 20[14] ')"
CONNECTIONS=$(connections_since "$MARK")
check_eq "keep-alive: $((2 * chunks)) requests over $CONNECTIONS connections (≤ 4 with --threads 2)" yes \
    "$([ "$CONNECTIONS" -le 4 ] && echo yes)"
check_eq "keep-alive: machine A: no remote cache warning" 0 "$(remote_warnings ka)"

# Proxies from the environment (a closed port) are ignored: machine B builds
# from the prefix machine A filled as if they were not set.
P=http://127.0.0.1:1
# shellcheck disable=SC2317  # called through check
with_proxies() {
    http_proxy=$P HTTP_PROXY=$P https_proxy=$P HTTPS_PROXY=$P ALL_PROXY=$P all_proxy=$P "$@"
}
MARK=$(log_mark)
check "proxies from the environment: machine B (--threads 2) builds" \
    with_proxies build proxy proxy --threads 2 --cache "$T/cache-proxy" --cache-remote "$WEBDAV_URL/ka"
check_eq "proxies from the environment: same digests" "$REF" "$(digests proxy)"
read -r hits remote misses corrupt chunks <<<"$(cache_figures proxy)"
check_eq "proxies from the environment: every chunk from the remote (remote misses)" "$chunks 0" "$remote $misses"
check_eq "proxies from the environment: no remote cache warning" 0 "$(remote_warnings proxy)"
CONNECTIONS=$(connections_since "$MARK")
check_eq "keep-alive: machine B: $chunks GETs over $CONNECTIONS connections (≤ 4 with --threads 2)" yes \
    "$([ "$CONNECTIONS" -le 4 ] && echo yes)"

# A server that closes each connection after 2 requests: every request,
# PUTs with their bodies included, goes through on a new connection.
MARK=$(log_mark)
check "connections closed by the server: the build succeeds" \
    build short short --threads 2 --cache "$T/cache-short" --cache-remote "$WEBDAV_URL/short"
check_eq "connections closed by the server: same digests" "$REF" "$(digests short)"
check_eq "connections closed by the server: no remote cache warning" 0 "$(remote_warnings short)"
check_eq "connections closed by the server: every entry PUT, the bytes of the local entries" \
    "$(cd "$T/cache-short/chunks" && entries "$T/cache-short" | xargs sha256sum)" \
    "$(cd "$WEBDAV_STORE/short/chunks" && entries "$WEBDAV_STORE/short" | xargs sha256sum)"
CONNECTIONS=$(connections_since "$MARK")
check_eq "connections closed by the server: $((2 * chunks)) requests over $CONNECTIONS connections (≥ $chunks)" yes \
    "$([ "$CONNECTIONS" -ge "$chunks" ] && echo yes)"

# ---------------------------------------------------------------- a read-only mirror (gzip)
# /ro/ serves the store machine A filled (GET) and answers PUT with 403.
# Machine B, with an empty cache, builds a tree where one file changed
# (.hidden, the first entry; same size and mtime): its chunk misses and its
# PUT is refused, which stops the writes only — every other chunk still
# comes from the mirror, with one warning.
cp -a "$T/root" "$T/root2"
printf 'SECRET dotfile\n' >"$T/root2/.hidden"
touch -r "$T/root/.hidden" "$T/root2/.hidden"
# build_changed NAME OUT ARGS...: build of the changed tree.
build_changed() {
    BUILD_ROOT=$T/root2 build "$@"
}
build_changed ro-ref ro-ref
REF2=$(digests ro-ref)
check_eq "read-only mirror: the changed tree has other digests" yes "$([ -n "$REF2" ] && [ "$REF2" != "$REF" ] && echo yes)"
ENTRIES_BEFORE=$(entries "$STORE")
MARK=$(log_mark)
check "read-only mirror: machine B, with an empty cache, builds the changed tree" \
    build_changed ro ro --cache "$T/cache-ro" --cache-remote "$WEBDAV_URL/ro/gzip"
check_eq "read-only mirror: same digests as without a cache" "$REF2" "$(digests ro)"
read -r hits remote misses corrupt chunks <<<"$(cache_figures ro)"
if [ "$chunks" != none ] && [ "$remote" != none ] && [ $((100 * remote)) -ge $((90 * chunks)) ] &&
    [ "$misses" -ge 1 ] && [ "$corrupt" = 0 ]; then
    pass "read-only mirror: $remote of $chunks chunks from the mirror (≥ 90 %), $misses compressed"
else
    fail "read-only mirror: ≥ 90 % of the chunks from the mirror, the changed one compressed" \
        "hits $hits remote $remote misses $misses corrupt $corrupt of $chunks chunks"
fi
check_eq "read-only mirror: nginx refused a PUT (403)" yes \
    "$(log_since "$MARK" | grep -qE '^PUT /ro/gzip/chunks/[0-9a-f/]+ 403 ' && echo yes)"
check_eq "read-only mirror: exactly one remote cache warning" 1 "$(remote_warnings ro)"
check_contains "read-only mirror: the warning names the mirror, the 403 and that storing there stops" "$T/ro.err" \
    "^ocipack: warning: remote cache.*$WEBDAV_URL/ro/gzip.*HTTP 403.*stor"
check_eq "read-only mirror: the store is unchanged" "$ENTRIES_BEFORE" "$(entries "$STORE")"
grep '^ocipack: warning: remote cache' "$T/ro.err" | sed 's/^/# /'

# The server stopped.
DOWN_URL=$WEBDAV_URL/gzip
stop_webdav
check "stopped server: the build succeeds" build stopped stopped --cache "$T/cache-stopped" --cache-remote "$DOWN_URL"
check_eq "stopped server: same digests as without a cache" "$REF" "$(digests stopped)"
check_eq "stopped server: exactly one remote cache warning" 1 "$(remote_warnings stopped)"
read -r hits remote misses corrupt chunks <<<"$(cache_figures stopped)"
check_eq "stopped server: every chunk compressed (hits misses)" "0 $chunks" "$hits $misses"
grep '^ocipack: warning: remote cache' "$T/stopped.err" | sed 's/^/# /'
check "stopped server, credentials in the URL: the build succeeds" \
    build stopped-user stopped-user --cache "$T/cache-stopped-user" --cache-remote "http://builder:secret-w0rd@${DOWN_URL#http://}"
check_eq "stopped server, credentials in the URL: exactly one remote cache warning" 1 "$(remote_warnings stopped-user)"
check_eq "stopped server, credentials in the URL: no output shows the user or the password" "" \
    "$(no_credentials_shown stopped-user)"
grep '^ocipack: warning: remote cache' "$T/stopped-user.err" | sed 's/^/# /'

# A slow server (the same store at 10 bytes/s) with a 1 s timeout.
if start_webdav "$T/dav"; then
    check "slow server: the build succeeds" build slow slow --cache "$T/cache-slow" \
        --cache-remote "$WEBDAV_SLOW_URL/gzip" --cache-remote-timeout 1
    check_eq "slow server: same digests as without a cache" "$REF" "$(digests slow)"
    check_eq "slow server: exactly one remote cache warning" 1 "$(remote_warnings slow)"
    check_contains "slow server: the warning says it timed out" "$T/slow.err" '^ocipack: warning: remote cache.*[Tt]imed out'
    grep '^ocipack: warning: remote cache' "$T/slow.err" | sed 's/^/# /'
else
    fail "slow server" "nginx did not start again: $SERVICE_SKIP_REASON"
fi

# URLs that are no cache location: usage errors (exit 2) naming --cache-remote.
for url in "ftp://127.0.0.1/cache" "http://127.0.0.1:1/x?y" "http://127.0.0.1:1/x#y" "127.0.0.1:8080"; do
    build bad-url bad-url --cache "$T/cache-bad"  --cache-remote "$url"
    check_eq "--cache-remote '$url': exit 2" 2 "$?"
    one_error_line "--cache-remote '$url'" "$T/bad-url.err" "--cache-remote"
    check_eq "--cache-remote '$url': no layout written" no "$([ -e "$T/bad-url" ] && echo yes || echo no)"
done

services_stop_checked
finish
