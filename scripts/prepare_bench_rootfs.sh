#!/usr/bin/env bash
# prepare_bench_rootfs.sh — produce a real root filesystem for ocipack benchmarks.
#
# Usage: scripts/prepare_bench_rootfs.sh [DIR]
#
# Builds a Debian bookworm "minbase" rootfs with mmdebstrap once, keeps the
# tarball in the cache (CACHE/minbase.tar) and extracts it once, as root,
# preserving owners, modes, xattrs and ACLs, to CACHE/minbase/ (or DIR).
# Later runs reuse both: the script is idempotent and cheap when cached.
#
# When the Debian archive cannot be reached (or mmdebstrap is missing), it
# falls back to a tree copied from the host's /usr (said so on stderr); that
# tree is remembered as a fallback (a marker in the cache) so a later run with
# the archive reachable replaces it with the real minbase rootfs.
#
# The last line on stdout is the rootfs directory path; everything else goes
# to stderr.
#
# Environment:
#   OCIPACK_BENCH_CACHE  cache directory (default /var/cache/ocipack-bench)
#   OCIPACK_BENCH_SUITE  Debian suite (default bookworm)
#   OCIPACK_BENCH_MIRROR mirror URL (default: none, the machine's apt sources)
#
# Where packages come from: the machine's own apt sources, so the script works
# wherever apt works (a local mirror, a proxy, a snapshot). The files of
# /etc/apt/sources.list and /etc/apt/sources.list.d/ (*.list, *.sources) that
# name the suite are given to mmdebstrap as they are (it pastes a MIRROR that
# is a file into the chroot's sources); when none names it (the machine runs
# another release), the first archive URI they list is used with the suite.
# With no apt sources at all, deb.debian.org (mmdebstrap's own default).
# Some MIRROR argument is always passed, so mmdebstrap never reads sources
# from stdin.
set -euo pipefail

cache=${OCIPACK_BENCH_CACHE:-/var/cache/ocipack-bench}
suite=${OCIPACK_BENCH_SUITE:-bookworm}
tarball="$cache/minbase.tar"
rootfs=${1:-$cache/minbase}
rootfs=$(realpath -m "$rootfs")
# State markers live in the cache, keyed by the rootfs path, so the tree itself
# holds exactly what the tarball (or the fallback copy) holds.
key=$(printf '%s' "$rootfs" | sha256sum | cut -c1-16)
ready_mark="$cache/.ready.$key"       # written after a complete extraction/copy
fallback_mark="$cache/.fallback.$key" # present when the tree came from /usr

log() { printf 'prepare_bench_rootfs: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    log "warning: not root; ownership and device nodes cannot be preserved"
fi

mkdir -p "$cache"
# Serialize concurrent runs on the same cache.
exec 9>"$cache/.lock"
flock 9

# The machine's apt source files (one-line .list and deb822 .sources).
apt_source_files() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && grep -qvE '^[[:space:]]*(#|$)' "$f" && printf '%s\n' "$f"
    done
    return 0
}

# The archive URIs a source file lists ("deb [opts] URI suite…" or "URIs:").
source_uris() {
    sed -nE -e 's/^[[:space:]]*URIs:[[:space:]]*//p' \
        -e 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' "$1" | tr ' ' '\n' | sed '/^$/d'
}

# Whether a source file names the suite (on a "deb" line or in "Suites:").
names_suite() {
    grep -qE "^[[:space:]]*(deb[[:space:]].*[[:space:]]|Suites:(.*[[:space:]])?)$suite([[:space:]]|$)" "$1"
}

# mirrors: the MIRROR arguments for mmdebstrap; probe_uri: the archive whose
# Release file tells whether it can be reached.
mirrors=()
probe_uri=http://deb.debian.org/debian
if [[ -n ${OCIPACK_BENCH_MIRROR:-} ]]; then
    mirrors=("$OCIPACK_BENCH_MIRROR")
    probe_uri=$OCIPACK_BENCH_MIRROR
else
    mapfile -t source_files < <(apt_source_files)
    for f in "${source_files[@]}"; do
        names_suite "$f" && mirrors+=("$f")
    done
    candidates=("${mirrors[@]}")
    (( ${#candidates[@]} > 0 )) || candidates=("${source_files[@]}")
    first_uri=
    for f in "${candidates[@]}"; do
        first_uri=$(source_uris "$f" | sed -n 1p)
        [[ -n $first_uri ]] && break
    done
    [[ -n $first_uri ]] && probe_uri=$first_uri
    if (( ${#mirrors[@]} == 0 )); then
        mirrors=("$probe_uri")
    fi
fi

archive_reachable() {
    # Cheap probe: can the archive's Release file for the suite be fetched?
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --max-time 15 -o /dev/null "$probe_uri/dists/$suite/Release"
    else
        timeout 30 apt-get -qq update >/dev/null 2>&1
    fi
}

# 1. The tarball, made once.
if [[ ! -s "$tarball" ]]; then
    if command -v mmdebstrap >/dev/null 2>&1 && archive_reachable; then
        log "running mmdebstrap --variant=minbase $suite -> $tarball from ${mirrors[*]} (takes a few minutes)"
        tmp="$tarball.tmp.$$"
        trap 'rm -f "$tmp"' EXIT
        if mmdebstrap --variant=minbase --format=tar "$suite" "$tmp" "${mirrors[@]}" \
            </dev/null >&2; then
            mv -f "$tmp" "$tarball"
        else
            log "mmdebstrap failed"
            rm -f "$tmp"
        fi
        trap - EXIT
    else
        log "mmdebstrap missing or Debian archive unreachable"
    fi
fi

# 2. The extracted tree, made once (redone if it is an old /usr fallback and
#    the real tarball now exists).
if [[ -e "$ready_mark" && -e "$fallback_mark" && -s "$tarball" ]]; then
    log "replacing the /usr fallback tree in $rootfs with the minbase rootfs"
    rm -rf "$rootfs"
    rm -f "$ready_mark" "$fallback_mark"
fi

if [[ ! -e "$ready_mark" ]]; then
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    if [[ -s "$tarball" ]]; then
        log "extracting $tarball -> $rootfs"
        tar --numeric-owner --same-owner --preserve-permissions \
            --xattrs --xattrs-include='*' --acls \
            -C "$rootfs" -xf "$tarball"
    else
        log "FALLBACK: no minbase tarball; copying a tree from /usr instead" \
            "(not a real rootfs: results are not comparable with the minbase ones)"
        # A bounded, rootfs-like mix: real executables (poorly compressible)
        # and many small text files (docs, man pages, scripts, zoneinfo).
        # Not all of /usr: /usr/lib alone can be several GiB on a dev box.
        for d in bin sbin share/doc share/man share/zoneinfo share/perl lib/python3; do
            if [[ -d /usr/$d ]]; then
                mkdir -p "$rootfs/usr/$(dirname "$d")"
                cp -a "/usr/$d" "$rootfs/usr/$d"
            fi
        done
        ln -s usr/bin "$rootfs/bin"
        ln -s usr/lib "$rootfs/lib"
        ln -s usr/sbin "$rootfs/sbin"
        mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/var"
        : >"$fallback_mark"
    fi
    : >"$ready_mark"
else
    log "cached rootfs found in $rootfs"
fi

printf '%s\n' "$rootfs"
