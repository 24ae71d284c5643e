#!/bin/bash
# test_tar_input.sh OCIPACK
#
# ROOTFS given as a tar: plain, gzip, bzip2 (Yocto's rootfs.tar.bz2), xz,
# zstd, or "-" on stdin. The same tree as a directory or as any of these tars
# must give the same diff_id and the same blob digest — for GNU tar's tars
# (also its four sparse formats) and for bsdtar's (which records hard-linked
# fifos as links and stores each xattr twice). Hostile or broken
# archives (absolute path, "..", duplicate entry, hard link to a missing or a
# later entry, a .wh. name, a truncated archive, a PAX record over 1 MiB, a
# negative size, a size far beyond the data, a NUL inside a PAX path, a hard
# link carrying data that hides an entry) are refused with one error
# line naming the entry, exit status 1, and the existing layout untouched.
# Also: --owner root stores 0:0 for every entry.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP

bash "$(dirname "$0")/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
# No tar can carry a socket.
rm -f "$T/root/run/sock"

layer_digest() {  # layout tag -> "layer-digest diff_id"
    local m c
    m=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$1/index.json" | cut -d: -f2)
    c=$(jq -r '.config.digest' "$1/blobs/sha256/$m" | cut -d: -f2)
    echo "$(jq -r '.layers[0].digest' "$1/blobs/sha256/$m") $(jq -r '.rootfs.diff_ids[0]' "$1/blobs/sha256/$c")"
}
L=$T/layout

# bsdtar (libarchive's writer) records a hard-linked fifo as a hard link, and
# stores every xattr twice (LIBARCHIVE.xattr.* and SCHILY.xattr.*): the whole
# tree, fifo links included, must give the directory's layer.
check "build from the directory (full tree)" "$OCIPACK" build "$T/root" -o "$L" --tag full --created @1700000000 -q
if require_tool bsdtar; then
    bsdtar --xattrs --numeric-owner --format pax -C "$T/root" -cf "$T/bsd.tar" . 2>"$T/bsdtar.err"
    check "build from a bsdtar tar" "$OCIPACK" build "$T/bsd.tar" -o "$L" --tag bsd --created @1700000000 -q
    check_eq "bsdtar: same layer as the directory" "$(layer_digest "$L" full)" "$(layer_digest "$L" bsd)"
else
    skip "bsdtar tars" "missing tools: $MISSING_TOOLS"
fi

# GNU tar stores a second name of a fifo as a second fifo: leave the
# hard-linked special files out so its tar holds exactly the directory's tree.
rm -rf "$T/root/edge/hl-special"
tar --xattrs --xattrs-include='*' --numeric-owner -C "$T/root" -cf "$T/root.tar" . 2>"$T/tar.err" ||
    { fail "make tar" "$(tail -2 "$T/tar.err")"; finish; }
gzip -k "$T/root.tar"; bzip2 -k "$T/root.tar"; xz -k -T1 "$T/root.tar"
command -v zstd >/dev/null && zstd -q "$T/root.tar" -o "$T/root.tar.zst"

check "build from the directory" "$OCIPACK" build "$T/root" -o "$L" --tag dir --created @1700000000 -q
want=$(layer_digest "$L" dir)
for input in root.tar root.tar.gz root.tar.bz2 root.tar.xz root.tar.zst; do
    [ -f "$T/$input" ] || { skip "$input" "zstd not installed"; continue; }
    tag=${input//./-}
    check "build from $input" "$OCIPACK" build "$T/$input" -o "$L" --tag "$tag" --created @1700000000 -q
    check_eq "$input: same layer digest and diff_id as the directory" "$want" "$(layer_digest "$L" "$tag")"
done
check "build from stdin" bash -c "'$OCIPACK' build - -o '$L' --tag stdin --created @1700000000 -q < '$T/root.tar.gz'"
check_eq "stdin: same layer as the directory" "$want" "$(layer_digest "$L" stdin)"
check "tar input is the same for 1 and 2 threads" bash -c "
  '$OCIPACK' build '$T/root.tar.bz2' -o '$T/t1' --tag x --threads 1 --created @1700000000 -q &&
  '$OCIPACK' build '$T/root.tar.bz2' -o '$T/t2' --tag x --threads 2 --created @1700000000 -q && diff -r '$T/t1' '$T/t2'"
# GNU tar's sparse formats (old GNU 'S' headers, PAX 0.0, 0.1 and 1.0): the
# framing scanner must follow each, and the files come back in full.
S=$T/sparse
mkdir -p "$S"
truncate -s 64M "$S/hole-then-x" && printf x >> "$S/hole-then-x"
truncate -s 10M "$S/all-hole"
printf head > "$S/runs" && truncate -s 3M "$S/runs" && printf mid >> "$S/runs" && truncate -s 9M "$S/runs" &&
    printf tail >> "$S/runs" && truncate -s 12M "$S/runs"
echo plain > "$S/plain"
# Twelve data runs: old GNU headers hold four, the rest go to extension blocks.
for i in $(seq 1 12); do printf "run$i" | dd of="$S/many-runs" bs=1 seek=$((i << 20)) conv=notrunc status=none; done
check "build the sparse tree from the directory" "$OCIPACK" build "$S" -o "$L" --tag sparse-dir --created @1700000000 -q
for variant in "gnu:--format=gnu" "pax-0.0:--format=posix --sparse-version=0.0" \
               "pax-0.1:--format=posix --sparse-version=0.1" "pax-1.0:--format=posix --sparse-version=1.0"; do
    name=${variant%%:*}
    # shellcheck disable=SC2086  # the options are words
    tar --sparse ${variant#*:} --numeric-owner -C "$S" -cf "$T/sparse-$name.tar" . 2>"$T/tar.err" ||
        { fail "GNU tar --sparse ($name)" "$(tail -1 "$T/tar.err")"; continue; }
    check "build from a GNU tar --sparse tar ($name)" "$OCIPACK" build "$T/sparse-$name.tar" -o "$L" --tag "sparse-$name" --created @1700000000 -q
    check_eq "GNU tar --sparse ($name): same layer as the directory" "$(layer_digest "$L" sparse-dir)" "$(layer_digest "$L" "sparse-$name")"
done

rm -rf "$T/bundle"
if check "umoci unpack of the tar-built image" umoci unpack --image "$L:root-tar-bz2" "$T/bundle"; then
    check "unpacked tree equals the directory" python3 "$(dirname "$0")/compare_trees.py" "$T/root" "$T/bundle/rootfs"
fi

# --owner root
check "--owner root" "$OCIPACK" build "$T/root" -o "$T/rootowned" --tag r --owner root -q
blob=$("$OCIPACK" inspect --json "$T/rootowned:r" | jq -r '.layers[0].digest' | cut -d: -f2)
check_eq "--owner root: every entry is 0:0" "0:0" "$(gzip -dc "$T/rootowned/blobs/sha256/$blob" | tar -tvf - --numeric-owner | awk '{print $2}' | cut -d/ -f1,2 --output-delimiter=: | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_contains_err() { grep -qE "$2" "$1"; }

# Hostile archives, made with Python's tarfile.
python3 - "$T" <<'PY' || fail "make the hostile archives" "python3 failed"
import io, sys, tarfile
base = sys.argv[1]
def make(name, entries, truncate=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, extra in entries:
            i = tarfile.TarInfo(path); i.mtime = 1700000000
            if kind == "file":
                data = extra.encode(); i.size = len(data); t.addfile(i, io.BytesIO(data))
            elif kind == "dir":
                i.type = tarfile.DIRTYPE; t.addfile(i)
            elif kind == "link":
                i.type = tarfile.LNKTYPE; i.linkname = extra; t.addfile(i)
    data = buf.getvalue()
    if truncate: data = data[:truncate]
    open(f"{base}/{name}.tar", "wb").write(data)
make("absolute", [("file", "ok", "x"), ("file", "/etc/evil", "x")])
make("dotdot", [("dir", "a", ""), ("file", "a/../../evil", "x")])
make("duplicate", [("file", "twice", "1"), ("file", "twice", "2")])
make("link-missing", [("link", "l", "nowhere")])
make("link-later", [("link", "early", "late"), ("file", "late", "x")])
make("whiteout", [("dir", "etc", ""), ("file", "etc/.wh.passwd", "")])
make("truncated", [("file", "big", "y" * 100000)], truncate=20000)
# A PAX record over 1 MiB (libarchive's limit for special headers).
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo("f"); i.pax_headers = {"comment": "x" * (2 << 20)}; i.size = 2
    t.addfile(i, io.BytesIO(b"hi"))
open(f"{base}/bigpax.tar", "wb").write(buf.getvalue())
# A NUL inside a PAX path: libarchive alone would cut the name at the NUL.
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo("placeholder"); i.pax_headers = {"path": "etc/pass\x00wd"}; i.size = 1
    t.addfile(i, io.BytesIO(b"x"))
open(f"{base}/nulpath.tar", "wb").write(buf.getvalue())
# Smuggling: a hard link whose size says 512 bytes of data follow, and those
# bytes are a header. Go's archive/tar reads a hidden entry there.
def header(name, typ, size, link=""):
    i = tarfile.TarInfo(name); i.type = typ; i.size = size; i.linkname = link; i.mtime = 1700000000
    return i.tobuf(format=tarfile.USTAR_FORMAT)
t = header("target", tarfile.REGTYPE, 0)
t += bytearray(header("link", tarfile.LNKTYPE, 0, "target"))
link = bytearray(t[512:1024]); link[124:136] = b"00000001000\0"; link[148:156] = b" " * 8
link[148:156] = ("%06o\0 " % sum(link)).encode()
t = t[:512] + bytes(link) + header("hidden", tarfile.REGTYPE, 0) + bytes(1024)
open(f"{base}/smuggle.tar", "wb").write(t)
# A USTAR header whose size field is a GNU base-256 negative number.
h = bytearray(512)
h[0:3] = b"neg"; h[100:108] = b"0000644\0"; h[108:116] = b"0000000\0"; h[116:124] = b"0000000\0"
h[124:136] = b"\xff" * 12                       # base-256, all ones: -1
h[136:148] = b"14541671000\0"; h[156:157] = b"0"; h[257:263] = b"ustar\0"; h[263:265] = b"00"
h[148:156] = b" " * 8
h[148:156] = ("%06o\0 " % sum(h)).encode()
open(f"{base}/negsize.tar", "wb").write(bytes(h) + bytes(1024))
# An absurd size: 2^40 bytes declared, 10 bytes present.
h[124:136] = b"20000000000000\0"[:12]
h[148:156] = b" " * 8
h[148:156] = ("%06o\0 " % sum(h)).encode()
open(f"{base}/hugesize.tar", "wb").write(bytes(h) + b"x" * 10)
PY
mkdir -p "$T/keep" && echo k > "$T/keep/k"
check "good layout for the hostile cases" "$OCIPACK" build "$T/keep" -o "$T/guard" --tag good -q
cp -a "$T/guard" "$T/guard.before"
for case in "absolute:/etc/evil" "dotdot:a/../../evil" "duplicate:twice" "link-missing:nowhere" "link-later:late" "whiteout:etc/.wh.passwd" "truncated:big|truncated|unexpected end" "bigpax:bigpax.tar.*too large" "negsize:negsize.tar': .*negative size" "hugesize:hugesize.tar': entry 'neg': [Tt]runcated" "nulpath:etc/pass.x00wd.*NUL" "smuggle:'link'"; do
    name=${case%%:*}; culprit=${case#*:}
    "$OCIPACK" build "$T/$name.tar" -o "$T/guard" --tag bad >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "ocipack: error:" "$T/err" && grep -qE "$culprit" "$T/err"; then
        pass "hostile tar '$name' refused: $(cat "$T/err")"
    else
        fail "hostile tar '$name' refused" "exit $rc, stderr: $(head -3 "$T/err")"
    fi
    check "hostile tar '$name': layout untouched" diff -r "$T/guard.before" "$T/guard"
done
finish
