#!/bin/bash
# test_hostile_output.sh OCIPACK
#
# What a build writes, and the values it is given (issue 9, "Writing output",
# "Values"), at the command line:
#  1. Output paths against inputs and each other: -o equal to the rootfs or a
#     --diff-base, a rootfs inside -o, -o inside a --base layout, --tar-output
#     onto the layout's index.json / oci-layout / a blob, onto the input tar,
#     into the --base layout, onto a symlink, a directory, a FIFO, a device,
#     or '-'. Each: exit 1, one "ocipack: error:" line naming the culprit,
#     every file (snapshot of names, types, contents) unchanged.
#  2. Three concurrent first builds into one new directory: all succeed, all
#     tags present, verify OK.
#  3. A first build SIGKILLed while writing its layer (and once right after
#     its first blob): the rerun succeeds; after another kill, gc succeeds
#     and a build after it too; a foreign file still makes build and gc refuse.
#  4. --tar-output temp files of a build killed while staging the tarball are
#     removed by the next build with that --tar-output; a temp file another
#     process holds locked is left alone.
#  5. Dates outside years 0000-9999 (--created, SOURCE_DATE_EPOCH): exit 2,
#     one error line; year 0000 is accepted and read by skopeo and umoci.
#  6. Tar input with uid -1, a huge uid or gid, an entry below a symlink, a
#     file or a hard link: exit 1, one error line naming the entry.
#  7. A rootfs tar through bash process substitution, a named pipe and stdin
#     all give the same layer as the file; /dev/null is a clear "empty" error.
#  8. A rootfs deeper than PATH_MAX (5000+ bytes, with a file, a symlink, a
#     hard link and an xattr at the bottom): built, its layer listed by GNU
#     tar with the deep paths, its file and symlink extracted by bsdtar,
#     verify OK. (umoci and GNU tar cannot extract paths that long, nor
#     bsdtar the hard link: their own limits.)
#  9. Under fakeroot as an unprivileged user, the ownership (and an xattr) fakeroot reports
#     reaches the layer (the walk's *at calls are wrapped like lstat was).
#
# Needs root, python3, jq, umoci, skopeo, GNU tar, bsdtar.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

# Only this shell's own background jobs (builds, lock holders).
# shellcheck disable=SC2317  # called from the trap
cleanup_all() {
    local p
    for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
    cleanup_tmp
}
trap cleanup_all EXIT

if ! require_tool python3 jq umoci skopeo tar bsdtar; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

T=$TEST_TMP
CREATED=(--created 2024-01-02T03:04:05Z)

# snapshot DIR : every path below DIR with its type, and a content hash for
# regular files (FIFOs and devices are listed, never read); the test's own
# output captures (logs/, last.*) left out.
snapshot() {
    (cd "$1" && find . \( -path ./logs -o -name 'last.*' \) -prune -o -printf '%y %p %l\n' | sort &&
        find . \( -path ./logs -o -name 'last.*' \) -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# refused NAME STATUS REGEX CMD... : CMD exits with STATUS, prints one error
# line matching REGEX, and nothing under $T changed.
refused() {
    local name=$1 want=$2 re=$3
    shift 3
    local before after rc
    before=$(snapshot "$T")
    "$@" >"$T/logs/out.txt" 2>"$T/logs/err.txt"
    rc=$?
    check_eq "$name: exit status" "$want" "$rc"
    one_error_line "$name" "$T/logs/err.txt" "$re"
    after=$(snapshot "$T")
    if [ "$before" == "$after" ]; then
        pass "$name: nothing changed"
    else
        fail "$name: nothing changed" "$(diff <(echo "$before") <(echo "$after") | head -n 5)"
    fi
}

mkdir -p "$T/logs" "$T/root/etc" "$T/root/usr/bin" "$T/other"
echo "ID=test" >"$T/root/etc/os-release"
head -c 200000 /dev/urandom >"$T/root/usr/bin/tool"
tar -C "$T/root" -cf "$T/in.tar" .
check "setup: a good layout L" "$OCIPACK" build "$T/root" -o "$T/L" --tag base "${CREATED[@]}" -q
check "setup: a good tarball" "$OCIPACK" build "$T/root" -o "$T/L" --tag base "${CREATED[@]}" -q \
    --tar-output "$T/good.tar"
BLOB=$(find "$T/L/blobs/sha256" -mindepth 1 -printf '%f\n' | sort | head -n 1)
ln -s "$T/good.tar" "$T/tar-link"
ln -s "$T/L" "$T/L-link"
mkfifo "$T/fifo"

echo "# 1. output paths against inputs and each other"
refused "-o is the rootfs" 1 "is the rootfs '$T/root'" "$OCIPACK" build "$T/root" -o "$T/root" -q
refused "-o is the rootfs (spelled differently)" 1 "is the rootfs" \
    "$OCIPACK" build "$T/root" -o "$T/other/../root/" -q
refused "-o is the --diff-base" 1 "is the --diff-base" \
    "$OCIPACK" build "$T/root" --diff-base "$T/other" -o "$T/other" -q
refused "rootfs inside -o" 1 "rootfs '$T/L/blobs' lies inside the output layout" \
    "$OCIPACK" build "$T/L/blobs" -o "$T/L" -q
refused "-o inside the --base layout's blobs" 1 "lies inside the --base layout" \
    "$OCIPACK" build "$T/root" --base "$T/L:base" -o "$T/L/blobs/sha256/new" -q
# --tar-output onto the layout's own files, a symlink, a directory, a FIFO,
# devices and '-', with -o L: "NAME|REGEX|TAR_OUTPUT[|-o]".
for c in "the layout's index.json|--tar-output '$T/L/index.json' lies inside the output layout|$T/L/index.json" \
    "a blob (through a symlinked -o)|lies inside the output layout|$T/L/blobs/sha256/$BLOB|$T/L-link" \
    "the layout's oci-layout|lies inside the output layout|$T/L-link/oci-layout" \
    "a symlink|'$T/tar-link' is a symbolic link|$T/tar-link" \
    "a directory|'$T/other' is a directory|$T/other" \
    "a FIFO|'$T/fifo' is a FIFO|$T/fifo" \
    "/dev/null|'/dev/null' is a character device|/dev/null" \
    "/dev/stdout|'/dev/stdout' is a symbolic link|/dev/stdout" \
    "-|--tar-output '-'.*standard output|-"; do
    IFS='|' read -r name re tar out <<<"$c"
    refused "--tar-output is $name" 1 "$re" \
        "$OCIPACK" build "$T/root" -o "${out:-$T/L}" --tag t --tar-output "$tar" -q
done
refused "--tar-output is the rootfs tar" 1 "is the rootfs tar '$T/in.tar'" \
    "$OCIPACK" build "$T/in.tar" -o "$T/new" --tar-output "$T/in.tar" -q
refused "--tar-output inside the --base layout" 1 "lies inside the --base layout" \
    "$OCIPACK" build "$T/root" --base "$T/L:base" -o "$T/new" --tar-output "$T/L/index.json" -q
check "allowed: -o and --tar-output inside the rootfs, --base is -o" \
    "$OCIPACK" build "$T/root" --base "$T/L:base" -o "$T/L" --tag stacked --tar-output "$T/root/image.tar" -q
rm -f "$T/root/image.tar"

echo "# 2. concurrent first builds into one new directory"
pids=()
for tag in one two three; do
    "$OCIPACK" build "$T/root" -o "$T/conc/new" --tag "$tag" "${CREATED[@]}" -q </dev/null \
        >"$T/conc-$tag.out" 2>"$T/conc-$tag.err" &
    pids+=($!)
done
i=0
for tag in one two three; do
    wait "${pids[$i]}"
    check_eq "concurrent first build '$tag' exits 0 ($(head -c 200 "$T/conc-$tag.err"))" 0 $?
    i=$((i + 1))
done
check_eq "concurrent first builds: all three tags present" "one three two" \
    "$("$OCIPACK" tags "$T/conc/new" 2>/dev/null | awk '{print $1}' | grep -E '^(one|two|three)$' | sort | xargs)"
check "concurrent first builds: verify OK" "$OCIPACK" verify "$T/conc/new"

echo "# 3. a first build killed part-way, then rebuild and gc"
mkdir -p "$T/big"
for n in 1 2 3 4 5 6; do head -c 20000000 /dev/urandom >"$T/big/f$n"; done
# kill_first_build DIR : starts a slow first build into DIR and SIGKILLs it
# once its layer temp blob holds data.
kill_first_build() {
    "$OCIPACK" build "$T/big" -o "$1" --tag big --threads 1 --level 9 -q </dev/null >/dev/null 2>&1 &
    local pid=$! i f
    for ((i = 0; i < 2000; i++)); do
        for f in "$1"/blobs/sha256/.blob.tmp-*; do
            [ -s "$f" ] && break 2
        done
        sleep 0.01
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if ls "$1"/blobs/sha256/.blob.tmp-* >/dev/null 2>&1 && [ ! -e "$1/index.json" ]; then
        pass "killed first build into $(basename "$1") left a half-made layout"
    else
        fail "killed first build into $(basename "$1") left a half-made layout" "$(find "$1" -maxdepth 3 2>&1 | head -n 5)"
    fi
}
kill_first_build "$T/k1"
check "rerun after the killed first build" "$OCIPACK" build "$T/root" -o "$T/k1" --tag after "${CREATED[@]}" -q
check "rerun after the killed first build: verify OK" "$OCIPACK" verify "$T/k1"
kill_first_build "$T/k2"
check "gc of the half-made layout" "$OCIPACK" gc "$T/k2"
check_eq "gc removed the killed build's temp files" "" "$(ls -A "$T/k2/blobs/sha256")"
check "build after gc" "$OCIPACK" build "$T/root" -o "$T/k2" --tag after "${CREATED[@]}" -q
check "build after gc: verify OK" "$OCIPACK" verify "$T/k2"
kill_first_build "$T/k3"
echo "mine" >"$T/k3/notes.txt"
refused "half-made layout with a foreign file: build" 1 "$T/k3/notes.txt" \
    "$OCIPACK" build "$T/root" -o "$T/k3" -q
refused "half-made layout with a foreign file: gc" 1 "$T/k3" "$OCIPACK" gc "$T/k3"

echo "# 4. stale --tar-output temp files"
mkdir -p "$T/tars"
names_in() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | xargs; }
"$OCIPACK" build "$T/big" -o "$T/k4" --tag big --threads 2 --level 1 --tar-output "$T/tars/image.tar" -q \
    </dev/null >/dev/null 2>&1 &
pid=$!
for ((i = 0; i < 6000; i++)); do
    for f in "$T"/tars/.image.tar.tmp-*; do [ -s "$f" ] && break 2; done
    sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
stale=$(find "$T/tars" -mindepth 1 -name '.image.tar.tmp-??????' | grep -c '')
check_eq "a build killed while staging leaves its temp tarball" 1 "$stale"
printf 'held' >"$T/tars/.image.tar.tmp-busy00"
# one process holding the lock (flock(1) would pass it on to its child)
# It says when it holds the lock (a fixed sleep raced with a slow start).
python3 -c 'import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(60)' \
    "$T/tars/.image.tar.tmp-busy00" "$T/holder.locked" &
holder=$!
for ((i = 0; i < 3000; i++)); do [ -e "$T/holder.locked" ] && break; sleep 0.01; done
check "next build with the same --tar-output" "$OCIPACK" build "$T/root" -o "$T/k4" --tag small \
    "${CREATED[@]}" --tar-output "$T/tars/image.tar" -q
check_eq "the killed build's temp tarball is gone, the locked one kept" ".image.tar.tmp-busy00 image.tar" \
    "$(names_in "$T/tars")"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check "a build after the holder is gone" "$OCIPACK" build "$T/root" -o "$T/k4" --tag small \
    "${CREATED[@]}" --tar-output "$T/tars/image.tar" -q
check_eq "then the unlocked temp tarball is removed too" "image.tar" "$(names_in "$T/tars")"
check "the tarball is a readable oci-archive" skopeo inspect "oci-archive:$T/tars/image.tar:small"

echo "# 5. dates outside years 0000-9999"
for created in 10000-01-01T00:00:00Z @253402300800 @-62167219201 9999-12-31T23:30:00-01:00; do
    refused "--created $created" 2 "--created: .*'$created' .*(is outside years 0000-9999|expected RFC 3339)" \
        "$OCIPACK" build "$T/root" -o "$T/L" --tag t --created "$created" -q
done
for epoch in 999999999999 253402300800; do
    refused "SOURCE_DATE_EPOCH=$epoch" 2 "SOURCE_DATE_EPOCH '$epoch' is outside years 0000-9999" \
        env SOURCE_DATE_EPOCH=$epoch "$OCIPACK" build "$T/root" -o "$T/L" --tag t -q
done
check "--created 0000-01-01T00:00:00Z (the first instant Go reads)" \
    "$OCIPACK" build "$T/root" -o "$T/Y0" --created @-62167219200 -q
check "SOURCE_DATE_EPOCH=99999999999 (year 5138) is fine" \
    env SOURCE_DATE_EPOCH=99999999999 "$OCIPACK" build "$T/root" -o "$T/Y5" -q
check_eq "skopeo reads year 0000" '"0000-01-01T00:00:00Z"' \
    "$(skopeo inspect "oci:$T/Y0:latest" 2>&1 | jq .Created)"
check "umoci unpacks the year-0000 image" umoci unpack --rootless --image "$T/Y0:latest" "$T/Y0-bundle"
check "verify accepts year 0000" "$OCIPACK" verify "$T/Y0"

echo "# 6. hostile tar input"
# make_tar OUT PYTHON : a tar made by Python's tarfile; PYTHON adds members to t.
make_tar() {
    python3 - "$1" "$2" <<'EOF'
import io, sys, tarfile
out, body = sys.argv[1], sys.argv[2]
fmt = tarfile.GNU_FORMAT if "GNU" in body else tarfile.PAX_FORMAT
t = tarfile.open(out, "w", format=fmt)
def add(name, kind="f", data=b"", link="", uid=0, gid=0):
    i = tarfile.TarInfo(name); i.mtime = 1700000000; i.uid = uid; i.gid = gid
    i.type = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "s": tarfile.SYMTYPE, "h": tarfile.LNKTYPE}[kind]
    i.linkname = link; i.size = len(data) if kind == "f" else 0; i.mode = 0o755 if kind == "d" else 0o644
    t.addfile(i, io.BytesIO(data) if kind == "f" else None)
exec(body)
t.close()
EOF
}
make_tar "$T/uid-neg.tar" 'add("etc", "d"); add("etc/x", uid=-1)  # GNU'
make_tar "$T/gid-neg.tar" 'add("etc", "d"); add("etc/y", gid=-7)  # GNU'
make_tar "$T/uid-huge.tar" 'add("etc", "d"); add("etc/z", uid=2**40)'
make_tar "$T/uid-max.tar" 'add("etc", "d"); add("etc/w", uid=4294967295)'
make_tar "$T/below-symlink.tar" 'add("a", "s", link="/etc"); add("a/evil", data=b"x")'
make_tar "$T/below-file.tar" 'add("a", data=b"file"); add("a/b", data=b"x")'
make_tar "$T/below-hardlink.tar" 'add("t", data=b"x"); add("h", "h", link="t"); add("h/c")'
make_tar "$T/symlink-after.tar" 'add("late/evil", data=b"x"); add("late", "s", link="/etc")'
for c in "uid-neg:'etc/x' has uid -1" "gid-neg:'etc/y' has gid -7" "uid-huge:'etc/z' has uid 1099511627776" \
    "uid-max:'etc/w' has uid 4294967295" "below-symlink:'a/evil' lies below 'a'" \
    "below-file:'a/b' lies below 'a'" "below-hardlink:'h/c' lies below 'h'" \
    "symlink-after:'late' is not a directory, but earlier entries lie below it"; do
    refused "tar input ${c%%:*}" 1 "${c#*:}" "$OCIPACK" build "$T/${c%%:*}.tar" -o "$T/L" --tag t -q
done

echo "# 7. streams as ROOTFS"
check "tar file" "$OCIPACK" build "$T/in.tar" -o "$T/s-file" "${CREATED[@]}" -q
check "process substitution <(cat in.tar)" "$OCIPACK" build <(cat "$T/in.tar") -o "$T/s-procsub" "${CREATED[@]}" -q
check "compressed process substitution <(gzip -c in.tar)" \
    "$OCIPACK" build <(gzip -c "$T/in.tar") -o "$T/s-gz" "${CREATED[@]}" -q
mkfifo "$T/rootfs.fifo"
cat "$T/in.tar" >"$T/rootfs.fifo" &
writer=$!
check "named pipe" "$OCIPACK" build "$T/rootfs.fifo" -o "$T/s-fifo" "${CREATED[@]}" -q
kill "$writer" 2>/dev/null  # still blocked if the build never opened the pipe
wait "$writer" 2>/dev/null
check "stdin (-)" sh -c "'$OCIPACK' build - -o '$T/s-stdin' --created 2024-01-02T03:04:05Z -q <'$T/in.tar'"
for l in s-procsub s-gz s-fifo s-stdin; do
    check_eq "$l gives the same image as the file" "$(cat "$T/s-file/index.json")" "$(cat "$T/$l/index.json" 2>&1)"
done
refused "/dev/null as ROOTFS" 1 "rootfs tar '/dev/null' is empty" "$OCIPACK" build /dev/null -o "$T/s-null" -q
refused "an empty process substitution" 1 "rootfs tar '/dev/fd/[0-9]+' is empty" \
    "$OCIPACK" build <(true) -o "$T/s-null" -q

echo "# 8. a rootfs deeper than PATH_MAX"
DEEP_REL=$(python3 - "$T/deep" <<'EOF'
import os, sys
root = sys.argv[1]
os.mkdir(root)
fd = os.open(root, os.O_RDONLY)
rel = ""
for i in range(530):  # 530 × "dddddddddd/" = 5830 bytes
    os.mkdir("dddddddddd", dir_fd=fd)
    nfd = os.open("dddddddddd", os.O_RDONLY, dir_fd=fd); os.close(fd); fd = nfd
    rel += "dddddddddd/"
f = os.open("file", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
os.write(f, b"at the bottom\n"); os.setxattr(f, "user.deep", b"yes"); os.close(f)
os.symlink("file", "link", dir_fd=fd)
os.link("file", "hard", src_dir_fd=fd, dst_dir_fd=fd)
print(rel)
EOF
)
check "build of the deep tree" "$OCIPACK" build "$T/deep" -o "$T/D" "${CREATED[@]}" -q
LAYER=$(jq -r '.manifests[0].digest' "$T/D/index.json" | cut -c8- | xargs -I{} jq -r '.layers[0].digest' \
    "$T/D/blobs/sha256/{}" | cut -c8-)
tar -tvzf "$T/D/blobs/sha256/$LAYER" >"$T/deep.list" 2>"$T/deep.err"
check_eq "GNU tar lists the deep layer" 0 $?
check_contains "GNU tar: the deep file" "$T/deep.list" "^-rw-r--r-- 0/0 +14 .* ${DEEP_REL}file$"
check_contains "GNU tar: the deep symlink" "$T/deep.list" " ${DEEP_REL}link -> file$"
check_contains "GNU tar: the deep hard link" "$T/deep.list" " ${DEEP_REL}hard link to ${DEEP_REL}file$"
check_eq "GNU tar: every level is there" 533 "$(grep -c '' "$T/deep.list")"
python3 - "$T/D/blobs/sha256/$LAYER" "${DEEP_REL}file" >"$T/deep.xattr" <<'EOF'
import sys, tarfile
t = tarfile.open(sys.argv[1])
print(t.getmember(sys.argv[2]).pax_headers.get("SCHILY.xattr.user.deep", "missing"))
EOF
check_eq "the deep file's xattr is in the layer" "yes" "$(cat "$T/deep.xattr")"
check "verify of the deep layout" "$OCIPACK" verify "$T/D"
# umoci and GNU tar cannot unpack it (they create whole paths: ENAMETOOLONG);
# bsdtar (libarchive) descends step by step and extracts the file and the
# symlink (its linkat() of the hard link and the symlink's utimes still use
# whole paths and fail: its limits, so its exit status is not the check).
mkdir -p "$T/D-x"
bsdtar -xf "$T/D/blobs/sha256/$LAYER" -C "$T/D-x" >"$T/logs/bsdtar.err" 2>&1
check_eq "bsdtar extracts the deep file and symlink" "at the bottom|file" \
    "$(python3 - "$T/D-x" "$DEEP_REL" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for part in sys.argv[2].strip("/").split("/"):
    n = os.open(part, os.O_RDONLY, dir_fd=fd); os.close(fd); fd = n
f = os.open("file", os.O_RDONLY, dir_fd=fd)
print(os.read(f, 100).decode().strip() + "|" + os.readlink("link", dir_fd=fd))
EOF
)"
python3 -c "import shutil, sys; [shutil.rmtree(p) for p in sys.argv[1:]]" "$T/deep" "$T/D-x"

echo "# 9. fakeroot still supplies ownership and xattrs (the walk's fstatat/readlinkat/flistxattr/fgetxattr are wrapped too)"
if ! command -v fakeroot >/dev/null || ! command -v setpriv >/dev/null; then
    skip "fakeroot ownership" "fakeroot or setpriv missing"
else
    mkdir -p "$T/fr" && chmod 777 "$T/fr" && cp "$OCIPACK" "$T/fr/ocipack" && chmod 755 "$T/fr/ocipack"
    # As nobody, so a chown can only be fakeroot's.
    (cd "$T/fr" && setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
        'mkdir -p root/d && echo x >root/d/f && ln -s f root/d/l &&
         fakeroot sh -c "chown 1234:5678 root/d/f && chown -h 4321:8765 root/d/l &&
                         setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= root/d/f &&
                         ./ocipack build root -o L -q --created @0"') >"$T/logs/fr.err" 2>&1
    check_eq "fakeroot build as nobody" 0 $?
    M=$(jq -r '.manifests[0].digest' "$T/fr/L/index.json" 2>/dev/null | cut -c8-)
    tar -tvzf "$T/fr/L/blobs/sha256/$(jq -r '.layers[0].digest' "$T/fr/L/blobs/sha256/$M" 2>/dev/null | cut -c8-)" \
        >"$T/logs/fr.list" 2>&1
    check_contains "fakeroot: the file's owner" "$T/logs/fr.list" "^-rw-r--r-- 1234/5678 .* d/f$"
    check_contains "fakeroot: the symlink's owner" "$T/logs/fr.list" "^lrwxrwxrwx 4321/8765 .* d/l -> f$"
    # nobody cannot set security.* for real: only fakeroot can report it,
    # here through its flistxattr/fgetxattr (the walk reads xattrs from the
    # file it opened), which this checks fakeroot wraps.
    check_eq "fakeroot: the file's faked security.capability xattr" "0100000200200000000000000000000000000000" \
        "$(python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1], "r:gz")
print(t.getmember("d/f").pax_headers.get("SCHILY.xattr.security.capability", "").encode("latin-1").hex())' \
            "$T/fr/L/blobs/sha256/$(jq -r '.layers[0].digest' "$T/fr/L/blobs/sha256/$M" 2>/dev/null | cut -c8-)" 2>&1)"
fi

finish
