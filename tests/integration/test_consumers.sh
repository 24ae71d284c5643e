#!/bin/bash
# test_consumers.sh OCIPACK
#
# Builds the rootfs of make_test_rootfs.sh (every entry kind) into an OCI
# layout with --chunk-size 256K (several gzip members) and checks that the
# consumers users run accept it and see exactly what went in:
#   - layout structure: oci-layout, index.json ref.name, blob names = sha256 of
#     their content, descriptor sizes = file sizes, no stray files, gzip -t,
#     multi-member gzip, diff_id = sha256 of the uncompressed layer, tar entry
#     naming (no ./, dirs end in /, no root entry, parents before children,
#     no socket, no atime/ctime PAX records);
#   - oci-image-tool validate and create;
#   - umoci unpack, GNU tar -x and bsdtar -x + compare_trees.py (every
#     attribute of every entry);
#   - skopeo inspect (config fields as given on the command line), skopeo copy
#     to docker-archive (decompressed layer = diff_id);
#   - --tar-output readable as oci-archive by skopeo, same content as the layout;
#   - determinism: --threads 1 vs 2, two runs in a row, a regenerated rootfs
#     (different inodes), --created in RFC 3339 vs @EPOCH form;
#   - defaults (no flags), SOURCE_DATE_EPOCH clamping, --level 1/12 diff_id,
#     multi-tag layouts (add, replace, keep), adding a tag to a layout made by
#     umoci (its entry, blobs and image stay intact).
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool jq python3 gzip tar sha256sum diff cmp; then
    echo "# missing basic tools: $MISSING_TOOLS" >&2
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
HAVE_UMOCI=1; require_tool umoci || HAVE_UMOCI=0
HAVE_SKOPEO=1; require_tool skopeo || HAVE_SKOPEO=0
HAVE_OIT=1; require_tool oci-image-tool || HAVE_OIT=0
SKOPEO=(skopeo --insecure-policy)

# check_jq NAME FILE FILTER [SHOW_FILTER]: PASS if `jq -e FILTER FILE` is true.
check_jq() {
    local name=$1 file=$2 filter=$3 show=${4:-.}
    if jq -e "$filter" "$file" >/dev/null 2>"$TEST_TMP/jq.err"; then
        pass "$name"
        return 0
    fi
    fail "$name" "jq '$filter' is false; actual: $(jq -c "$show" "$file" 2>&1 | head -c 600)"
    show_tail "$TEST_TMP/jq.err"
    return 1
}

# run_ocipack NAME OUT_PREFIX ARGS... : runs ocipack, keeps stdout/stderr in
# OUT_PREFIX.out/.err, records PASS/FAIL under NAME.
run_ocipack() {
    local name=$1 prefix=$2
    shift 2
    "$OCIPACK" "$@" >"$prefix.out" 2>"$prefix.err"
    local rc=$?
    if [ $rc -eq 0 ]; then
        pass "$name"
        return 0
    fi
    fail "$name" "ocipack exited $rc: ocipack $*"
    show_tail "$prefix.err"
    return 1
}

# check_layout_blobs NAME LAYOUT: structural checks on every blob of a layout.
check_layout_blobs() {
    local name=$1 layout=$2 f hex bad=""
    for f in "$layout"/blobs/sha256/*; do
        hex=$(basename "$f")
        [ "$(sha256_of "$f")" = "$hex" ] || bad="$bad $hex"
    done
    if [ -z "$bad" ]; then pass "$name: every blob's sha256 equals its file name"
    else fail "$name: every blob's sha256 equals its file name" "mismatch:$bad"; fi
    local stray
    stray=$(cd "$layout" && find . -mindepth 1 ! -type d | sed 's|^\./||' |
        grep -Ev '^(oci-layout|index\.json|blobs/sha256/[0-9a-f]{64})$')
    if [ -z "$stray" ]; then pass "$name: no stray files in layout"
    else fail "$name: no stray files in layout" "$(echo $stray)"; fi
}

CREATED=2024-01-02T03:04:05Z
CREATED_EPOCH=1704164645
TAG=test:1
SRC=$TEST_TMP/rootfs
if ! "$TESTS_DIR/make_test_rootfs.sh" "$SRC" >"$TEST_TMP/mkroot.log" 2>&1; then
    fail "make_test_rootfs.sh" "could not create the test rootfs"
    show_tail "$TEST_TMP/mkroot.log"
    finish
fi

# Every image-config flag, with values that exercise quoting.
CONFIG_ARGS=(
    --arch aarch64 --variant v8 --os linux
    --author "Jane Doe <jane@example.com>"
    --user 1000
    --env 'PATH=/usr/local/bin:/usr/bin:/bin'
    --env 'GREETING=hello world = yes'
    --entrypoint "/bin/sh -c 'echo \"\$GREETING\" done'"
    --cmd first --cmd 'second arg'
    --workdir /srv/app
    --stop-signal SIGTERM
    --port 80 --port 53/udp
    --label 'org.example.description=an image with spaces'
    --label 'org.example.equation=a=b'
)
EXP_ENTRYPOINT='["/bin/sh","-c","echo \"$GREETING\" done"]'
EXP_CMD='["first","second arg"]'
EXP_ENV='["PATH=/usr/local/bin:/usr/bin:/bin","GREETING=hello world = yes"]'
EXP_LABELS='{"org.example.description":"an image with spaces","org.example.equation":"a=b"}'
EXP_PORTS='{"80/tcp":{},"53/udp":{}}'

L=$TEST_TMP/layout
ARCHIVE=$TEST_TMP/layout.tar
echo "# main build"
if ! run_ocipack "build (all config flags, --chunk-size 256K, --tar-output)" "$TEST_TMP/build1" \
    build "$SRC" -o "$L" --tag "$TAG" --chunk-size 256K --created "$CREATED" --threads 2 \
    --tar-output "$ARCHIVE" "${CONFIG_ARGS[@]}"; then
    echo "# the main build failed; nothing else can be checked" >&2
    finish
fi
check_contains "socket skipped with a warning naming it" "$TEST_TMP/build1.err" '^ocipack: warning: .*run/sock'
if grep -qi 'error' "$TEST_TMP/build1.err"; then
    fail "no error on stderr of a successful build" "$(grep -i error "$TEST_TMP/build1.err" | head -3)"
else
    pass "no error on stderr of a successful build"
fi

# --- layout structure -----------------------------------------------------------
echo "# layout structure"
check_jq "oci-layout imageLayoutVersion 1.0.0" "$L/oci-layout" '.imageLayoutVersion == "1.0.0"'
MANIFEST_DIGEST=$(layout_manifest_digest "$L" "$TAG")
check_jq "index.json: schemaVersion 2, one manifest of the OCI manifest type with ref.name $TAG" "$L/index.json" \
    ".schemaVersion == 2 and (.manifests | length) == 1 and .manifests[0].mediaType == \"application/vnd.oci.image.manifest.v1+json\" and .manifests[0].annotations[\"org.opencontainers.image.ref.name\"] == \"$TAG\""
check_layout_blobs "layout" "$L"

MANIFEST=$(blob_path "$L" "$MANIFEST_DIGEST")
if [ -z "$MANIFEST_DIGEST" ] || [ ! -f "$MANIFEST" ]; then
    fail "manifest blob exists" "no manifest for $TAG in index.json or blob missing ($MANIFEST_DIGEST)"
    finish
fi
check_eq "manifest descriptor size = file size" "$(jq -r '.manifests[0].size' "$L/index.json")" "$(stat -c %s "$MANIFEST")"
check_jq "manifest: schemaVersion 2, OCI media types, one layer" "$MANIFEST" \
    '.schemaVersion == 2 and .config.mediaType == "application/vnd.oci.image.config.v1+json" and (.layers | length) == 1 and .layers[0].mediaType == "application/vnd.oci.image.layer.v1.tar+gzip"'
CONFIG=$(blob_path "$L" "$(jq -r .config.digest "$MANIFEST")")
LAYER_DIGEST=$(jq -r '.layers[0].digest' "$MANIFEST")
LAYER=$(blob_path "$L" "$LAYER_DIGEST")
check_eq "config descriptor size = file size" "$(jq -r .config.size "$MANIFEST")" "$(stat -c %s "$CONFIG" 2>&1)"
check_eq "layer descriptor size = file size" "$(jq -r '.layers[0].size' "$MANIFEST")" "$(stat -c %s "$LAYER" 2>&1)"
check "gzip -t on the layer blob" gzip -t "$LAYER"
DIFF_ID=sha256:$(gzip -dc "$LAYER" | sha256sum | cut -d' ' -f1)
check_jq "config rootfs: type layers, diff_ids = [sha256 of gzip -dc layer]" "$CONFIG" \
    ".rootfs.type == \"layers\" and .rootfs.diff_ids == [\"$DIFF_ID\"]" .rootfs

# Gzip members and PAX records, read with Python (zlib / tarfile).
"$PY" - "$LAYER" >"$TEST_TMP/layerinfo.json" 2>"$TEST_TMP/layerinfo.err" <<'EOF'
import io, json, sys, tarfile, zlib
data = open(sys.argv[1], "rb").read()
members, pos, raw = 0, 0, b""
while pos < len(data):
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    raw += d.decompress(data[pos:])
    if not d.eof:
        raise SystemExit("truncated gzip member at offset %d" % pos)
    members += 1
    pos = len(data) - len(d.unused_data)
bad_pax = []
with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
    for m in tf:
        for key in m.pax_headers:
            if key in ("atime", "ctime") or (key == "mtime" and "." in m.pax_headers[key]):
                bad_pax.append("%s: %s=%s" % (m.name, key, m.pax_headers[key]))
print(json.dumps({"members": members, "bad_pax": bad_pax}))
EOF
if [ -s "$TEST_TMP/layerinfo.json" ]; then
    check_jq "layer has several gzip members with --chunk-size 256K (>= 4)" "$TEST_TMP/layerinfo.json" '.members >= 4' .members
    echo "#   gzip members: $(jq .members "$TEST_TMP/layerinfo.json")"
    check_jq "no atime/ctime or fractional mtime PAX records" "$TEST_TMP/layerinfo.json" '.bad_pax == []' .bad_pax
else
    fail "layer readable by Python zlib/tarfile" "$(head -c 300 "$TEST_TMP/layerinfo.err")"
fi

# Entry names, as GNU tar prints them (raw: dirs keep their trailing '/').
gzip -dc "$LAYER" | tar --quoting-style=literal -t >"$TEST_TMP/layer.list" 2>"$TEST_TMP/layer.list.err"
check_eq "GNU tar lists the layer" "0" "$?"
# Expected names: every non-socket entry below the root, dirs with a trailing /.
(cd "$SRC" && find . -mindepth 1 ! -type s -printf '%y %P\n' |
    while IFS= read -r line; do
        t=${line%% *} p=${line#* }
        if [ "$t" = d ]; then printf '%s/\n' "$p"; else printf '%s\n' "$p"; fi
    done | LC_ALL=C sort) >"$TEST_TMP/expected.list"
LC_ALL=C sort "$TEST_TMP/layer.list" >"$TEST_TMP/layer.sorted"
if cmp -s "$TEST_TMP/expected.list" "$TEST_TMP/layer.sorted"; then
    pass "layer entry names: rootfs-relative, no ./, dirs end in /, no root entry, no socket"
else
    fail "layer entry names: rootfs-relative, no ./, dirs end in /, no root entry, no socket" \
        "differences (< expected, > layer):"
    diff "$TEST_TMP/expected.list" "$TEST_TMP/layer.sorted" | head -20 | sed 's/^/    | /'
fi
if [ "$(sort -u "$TEST_TMP/layer.list" | wc -l)" = "$(wc -l <"$TEST_TMP/layer.list")" ]; then
    pass "no duplicate entries in the layer"
else
    fail "no duplicate entries in the layer" "$(sort "$TEST_TMP/layer.list" | uniq -d | head -5 | tr '\n' ' ')"
fi
ORDER_ERR=$(awk '{
    seen[$0] = 1
    n = split($0, parts, "/"); path = $0; sub(/\/$/, "", path)
    parent = path; sub(/\/[^\/]*$/, "", parent)
    if (parent != path && !((parent "/") in seen)) { print $0; exit }
}' "$TEST_TMP/layer.list")
if [ -z "$ORDER_ERR" ]; then pass "every entry comes after its parent directory"
else fail "every entry comes after its parent directory" "first offender: $ORDER_ERR"; fi

# --- oci-image-tool ---------------------------------------------------------------
echo "# oci-image-tool"
if [ $HAVE_OIT = 1 ]; then
    check "oci-image-tool validate --type image --ref name=$TAG" \
        oci-image-tool validate --type image --ref "name=$TAG" "$L"
    # 1.0.0-rc1 auto-detects the type; --type imageLayout is given explicitly
    # (the only value for a directory layout).
    # Its unpacker does not create fifos (nor devices), so a hardlink to a fifo
    # makes it fail ("link ...: no such file or directory"): that is a limit
    # of oci-image-tool, so `create` gets an image without the hardlinked fifo.
    OB=$TEST_TMP/oit-bundle
    SRC_OIT=$TEST_TMP/rootfs-oit
    L_OIT=$TEST_TMP/layout-oit
    cp -a "$SRC" "$SRC_OIT" && rm -f "$SRC_OIT/edge/fifo-second-name" "$SRC_OIT/edge/hl-special/fifo"
    "$OCIPACK" build "$SRC_OIT" -o "$L_OIT" --tag "$TAG" --chunk-size 256K --created "$CREATED" \
        "${CONFIG_ARGS[@]}" >/dev/null 2>"$TEST_TMP/build-oit.err" ||
        fail "build of the image for oci-image-tool create" "$(head -c 300 "$TEST_TMP/build-oit.err")"
    if check "oci-image-tool create --type imageLayout --ref name=$TAG" \
        oci-image-tool create --type imageLayout --ref "name=$TAG" "$L_OIT" "$OB"; then
        check_jq "oci-image-tool bundle: process args/env/cwd/user from the config" "$OB/config.json" \
            ".process.args == ($EXP_ENTRYPOINT + $EXP_CMD) and .process.env == $EXP_ENV and .process.cwd == \"/srv/app\" and .process.user.uid == 1000" .process
        # oci-image-tool's unpacker is lossy (no devices, xattrs, owners or
        # mtimes), so only content is compared here; umoci checks the rest.
        ok=1
        for f in etc/hello.txt data/random-3MiB.bin usr/lib/text-lines.txt usr/lib/binary.bin \
            links/b/second-name "$SRC"/data/verylong/*/*/*/*/*/*/xxx*.txt; do
            f=${f#"$SRC/"}
            [ -f "$OB/rootfs/$f" ] && cmp -s "$SRC/$f" "$OB/rootfs/$f" || { ok=0; echo "    | differs: $f"; }
        done
        [ "$(readlink "$OB/rootfs/usr/long-target-link")" = "$(readlink "$SRC/usr/long-target-link")" ] || { ok=0; echo "    | long symlink target differs"; }
        if [ $ok = 1 ]; then pass "oci-image-tool bundle: file contents and long symlink target"
        else fail "oci-image-tool bundle: file contents and long symlink target" "see lines above"; fi
    fi
else
    skip "oci-image-tool validate/create" "oci-image-tool not installed"
fi

# --- umoci --------------------------------------------------------------------------
echo "# umoci"
if [ $HAVE_UMOCI = 1 ]; then
    UB=$TEST_TMP/umoci-bundle
    if check "umoci unpack --image LAYOUT:$TAG" umoci unpack --image "$L:$TAG" "$UB"; then
        "$PY" "$TESTS_DIR/compare_trees.py" --ignore-sockets "$SRC" "$UB/rootfs" >"$TEST_TMP/cmp.out" 2>&1
        if [ $? -eq 0 ]; then
            pass "umoci rootfs identical to the source tree (compare_trees.py, sockets ignored)"
        else
            fail "umoci rootfs identical to the source tree (compare_trees.py, sockets ignored)" \
                "$(grep -c . "$TEST_TMP/cmp.out") lines of differences:"
            head -30 "$TEST_TMP/cmp.out" | sed 's/^/    | /'
        fi
        check_jq "umoci bundle: process args/cwd/user from the config" "$UB/config.json" \
            ".process.args == ($EXP_ENTRYPOINT + $EXP_CMD) and .process.cwd == \"/srv/app\" and .process.user.uid == 1000" .process
    fi
    check "umoci ls lists $TAG" sh -c "umoci ls --layout '$L' | grep -qx '$TAG'"
else
    skip "umoci unpack + compare_trees" "umoci not installed"
fi

# --- GNU tar and bsdtar -----------------------------------------------------------------
echo "# GNU tar / bsdtar"
extract_and_compare() { # NAME DIR CMD...   (CMD reads the layer blob)
    local name=$1 dir=$2
    shift 2
    mkdir -p "$dir"
    if ! "$@" >"$TEST_TMP/x.out" 2>"$TEST_TMP/x.err"; then
        fail "$name extracts the layer" "$(tail -n 3 "$TEST_TMP/x.err" | tr '\n' ' ')"
        return
    fi
    pass "$name extracts the layer"
    if "$PY" "$TESTS_DIR/compare_trees.py" --ignore-sockets "$SRC" "$dir" >"$TEST_TMP/cmp-x.out" 2>&1; then
        pass "$name: extracted tree identical to the source tree (compare_trees.py)"
    else
        fail "$name: extracted tree identical to the source tree (compare_trees.py)" "differences:"
        head -20 "$TEST_TMP/cmp-x.out" | sed 's/^/    | /'
    fi
}
extract_and_compare "GNU tar" "$TEST_TMP/gnutar-x" \
    tar -x -z -f "$LAYER" -C "$TEST_TMP/gnutar-x" --numeric-owner --same-owner -p --xattrs --xattrs-include='*'
if require_tool bsdtar; then
    extract_and_compare "bsdtar" "$TEST_TMP/bsdtar-x" \
        bsdtar -x -f "$LAYER" -C "$TEST_TMP/bsdtar-x" --numeric-owner -p --xattrs
else
    skip "bsdtar extraction" "bsdtar (libarchive-tools) not installed"
fi

# --- skopeo -------------------------------------------------------------------------
echo "# skopeo"
if [ $HAVE_SKOPEO = 1 ]; then
    C=$TEST_TMP/skopeo-config.json
    if check "skopeo inspect --config oci:LAYOUT:$TAG" sh -c "skopeo --insecure-policy inspect --config 'oci:$L:$TAG' >'$C'"; then
        check_jq "config: architecture arm64 (from aarch64)" "$C" '.architecture == "arm64"' .architecture
        check_jq "config: variant v8" "$C" '.variant == "v8"' .variant
        check_jq "config: os linux" "$C" '.os == "linux"' .os
        check_jq "config: author" "$C" '.author == "Jane Doe <jane@example.com>"' .author
        check_jq "config: created = --created" "$C" ".created == \"$CREATED\"" .created
        check_jq "config: User" "$C" '.config.User == "1000"' .config.User
        check_jq "config: Env in order, value with spaces and =" "$C" ".config.Env == $EXP_ENV" .config.Env
        check_jq "config: Entrypoint shlex-split from one string with quotes" "$C" ".config.Entrypoint == $EXP_ENTRYPOINT" .config.Entrypoint
        check_jq "config: Cmd from repeated --cmd" "$C" ".config.Cmd == $EXP_CMD" .config.Cmd
        check_jq "config: WorkingDir" "$C" '.config.WorkingDir == "/srv/app"' .config.WorkingDir
        check_jq "config: ExposedPorts 80/tcp and 53/udp" "$C" ".config.ExposedPorts == $EXP_PORTS" .config.ExposedPorts
        check_jq "config: Labels (spaces, = in value)" "$C" ".config.Labels == $EXP_LABELS" .config.Labels
        check_jq "config: StopSignal" "$C" '.config.StopSignal == "SIGTERM"' .config.StopSignal
        check_jq "config: rootfs.diff_ids[0] = sha256 of gzip -dc layer" "$C" ".rootfs.diff_ids == [\"$DIFF_ID\"]" .rootfs
        check_jq "config: history present, created = --created" "$C" \
            "(.history | length) >= 1 and all(.history[]; .created == \"$CREATED\")" .history
    fi
    I=$TEST_TMP/skopeo-inspect.json
    if check "skopeo inspect oci:LAYOUT:$TAG" sh -c "skopeo --insecure-policy inspect 'oci:$L:$TAG' >'$I'"; then
        check_jq "skopeo inspect: Digest, Layers, Architecture, Os, Created, Labels, Env" "$I" \
            ".Digest == \"$MANIFEST_DIGEST\" and .Layers == [\"$LAYER_DIGEST\"] and .Architecture == \"arm64\" and .Os == \"linux\" and .Created == \"$CREATED\" and .Labels == $EXP_LABELS and .Env == $EXP_ENV"
    fi
    DA=$TEST_TMP/docker-archive.tar
    if check "skopeo copy oci:LAYOUT:$TAG docker-archive:OUT.tar:name:tag" \
        "${SKOPEO[@]}" copy "oci:$L:$TAG" "docker-archive:$DA:name:tag"; then
        tar -xOf "$DA" manifest.json >"$TEST_TMP/da-manifest.json" 2>/dev/null
        # skopeo 1.9 normalises the reference to docker.io/library/name:tag.
        check_jq "docker-archive: RepoTags [name:tag], one layer" "$TEST_TMP/da-manifest.json" \
            '(.[0].RepoTags == ["name:tag"] or .[0].RepoTags == ["docker.io/library/name:tag"]) and (.[0].Layers | length) == 1'
        DA_LAYER=$(jq -r '.[0].Layers[0]' "$TEST_TMP/da-manifest.json" 2>/dev/null)
        check_eq "docker-archive: skopeo-decompressed layer has sha256 = diff_id" "$DIFF_ID" \
            "sha256:$(tar -xOf "$DA" "$DA_LAYER" | sha256sum | cut -d' ' -f1)"
    fi
else
    skip "skopeo inspect/copy" "skopeo not installed"
fi

# --- --tar-output -------------------------------------------------------------------------
echo "# --tar-output"
if [ -s "$ARCHIVE" ]; then
    tar -tf "$ARCHIVE" >"$TEST_TMP/archive.list" 2>&1
    check_eq "tar -tf on --tar-output file" "0" "$?"
    # Expected: exactly the layout's files (directory entries allowed).
    (cd "$L" && find . -mindepth 1 ! -type d | sed 's|^\./||' | LC_ALL=C sort) >"$TEST_TMP/archive.expected"
    grep -v '/$' "$TEST_TMP/archive.list" | LC_ALL=C sort >"$TEST_TMP/archive.files"
    if cmp -s "$TEST_TMP/archive.expected" "$TEST_TMP/archive.files"; then
        pass "tarball entries: oci-layout, index.json, blobs/sha256/<hex> (no ./ prefix)"
    else
        fail "tarball entries: oci-layout, index.json, blobs/sha256/<hex> (no ./ prefix)" "(< layout files, > tarball):"
        diff "$TEST_TMP/archive.expected" "$TEST_TMP/archive.files" | head -10 | sed 's/^/    | /'
    fi
    mkdir -p "$TEST_TMP/archive-x"
    if tar -xf "$ARCHIVE" -C "$TEST_TMP/archive-x" 2>"$TEST_TMP/archive-x.err" &&
        diff -r "$L" "$TEST_TMP/archive-x" >"$TEST_TMP/archive-x.diff" 2>&1; then
        pass "tarball extracts to a tree identical to the layout"
    else
        fail "tarball extracts to a tree identical to the layout" "$(head -c 400 "$TEST_TMP/archive-x.diff" "$TEST_TMP/archive-x.err")"
    fi
    if [ $HAVE_SKOPEO = 1 ]; then
        if check "skopeo inspect oci-archive:FILE:$TAG" sh -c "skopeo --insecure-policy inspect 'oci-archive:$ARCHIVE:$TAG' >'$TEST_TMP/archive-inspect.json'"; then
            check_jq "oci-archive: same manifest digest as the layout" "$TEST_TMP/archive-inspect.json" \
                ".Digest == \"$MANIFEST_DIGEST\"" .Digest
        fi
    else
        skip "skopeo inspect oci-archive" "skopeo not installed"
    fi
else
    fail "--tar-output file written" "$ARCHIVE missing or empty"
fi

# --- determinism --------------------------------------------------------------------------
echo "# determinism"
same_layout() { # NAME OTHER_LAYOUT OTHER_ARCHIVE
    if diff -r "$L" "$2" >"$TEST_TMP/det.diff" 2>&1; then
        pass "$1: layout identical (diff -r)"
    else
        fail "$1: layout identical (diff -r)" "$(head -5 "$TEST_TMP/det.diff" | tr '\n' ' ')"
    fi
    if [ -n "${3:-}" ]; then
        if cmp -s "$ARCHIVE" "$3"; then pass "$1: --tar-output identical"
        else fail "$1: --tar-output identical" "$(cmp "$ARCHIVE" "$3" 2>&1)"; fi
    fi
}
if run_ocipack "build --threads 1" "$TEST_TMP/build-t1" build "$SRC" -o "$TEST_TMP/layout-t1" --tag "$TAG" \
    --chunk-size 256K --created "$CREATED" --threads 1 --tar-output "$TEST_TMP/layout-t1.tar" "${CONFIG_ARGS[@]}"; then
    same_layout "--threads 1 vs --threads 2" "$TEST_TMP/layout-t1" "$TEST_TMP/layout-t1.tar"
fi
if run_ocipack "build --threads 2 again" "$TEST_TMP/build-t2" build "$SRC" -o "$TEST_TMP/layout-t2" --tag "$TAG" \
    --chunk-size 256K --created "$CREATED" --threads 2 --tar-output "$TEST_TMP/layout-t2.tar" "${CONFIG_ARGS[@]}"; then
    same_layout "two runs in a row" "$TEST_TMP/layout-t2" "$TEST_TMP/layout-t2.tar"
fi
# Small chunks and more threads than cores: many chunks in flight, reordered.
if run_ocipack "build --chunk-size 64K --threads 1" "$TEST_TMP/build-64k-t1" build "$SRC" -o "$TEST_TMP/layout-64k-t1" \
    --tag "$TAG" --chunk-size 64K --created "$CREATED" --threads 1 --quiet &&
    run_ocipack "build --chunk-size 64K --threads 6" "$TEST_TMP/build-64k-t6" build "$SRC" -o "$TEST_TMP/layout-64k-t6" \
        --tag "$TAG" --chunk-size 64K --created "$CREATED" --threads 6 --quiet; then
    if diff -r "$TEST_TMP/layout-64k-t1" "$TEST_TMP/layout-64k-t6" >"$TEST_TMP/det.diff" 2>&1; then
        pass "--chunk-size 64K: --threads 1 vs --threads 6 identical"
    else
        fail "--chunk-size 64K: --threads 1 vs --threads 6 identical" "$(head -5 "$TEST_TMP/det.diff" | tr '\n' ' ')"
    fi
fi
# Same tree content created again: other inode numbers and creation order.
SRC2=$TEST_TMP/rootfs-again
if "$TESTS_DIR/make_test_rootfs.sh" "$SRC2" >/dev/null 2>&1 &&
    run_ocipack "build from a regenerated identical rootfs, --created @EPOCH" "$TEST_TMP/build-src2" \
        build "$SRC2" -o "$TEST_TMP/layout-src2" --tag "$TAG" --chunk-size 256K --created "@$CREATED_EPOCH" \
        --tar-output "$TEST_TMP/layout-src2.tar" "${CONFIG_ARGS[@]}"; then
    same_layout "regenerated rootfs (other inodes) + @EPOCH form of --created" "$TEST_TMP/layout-src2" "$TEST_TMP/layout-src2.tar"
fi

# --- compression level: layer content independent of --level -------------------------------
echo "# --level"
for level in 1 12; do
    LL=$TEST_TMP/layout-level$level
    if run_ocipack "build --level $level" "$TEST_TMP/build-level$level" build "$SRC" -o "$LL" \
        --tag "$TAG" --created "$CREATED" --level $level --quiet; then
        m=$(blob_path "$LL" "$(layout_manifest_digest "$LL" "$TAG")")
        lb=$(blob_path "$LL" "$(jq -r '.layers[0].digest' "$m")")
        check "--level $level: gzip -t" gzip -t "$lb"
        check_eq "--level $level: same diff_id" "$DIFF_ID" "sha256:$(gzip -dc "$lb" | sha256sum | cut -d' ' -f1)"
        check_eq "--quiet prints nothing on stdout" "" "$(cat "$TEST_TMP/build-level$level.out")"
    fi
done

# --- defaults ---------------------------------------------------------------------------
echo "# defaults"
LD=$TEST_TMP/layout-defaults
case "$(uname -m)" in
    x86_64) HOST_ARCH=amd64 ;; aarch64) HOST_ARCH=arm64 ;; armv7l|armv6l) HOST_ARCH=arm ;;
    i?86) HOST_ARCH=386 ;; *) HOST_ARCH=$(uname -m) ;;
esac
if run_ocipack "build with no optional flags" "$TEST_TMP/build-defaults" build "$SRC" -o "$LD"; then
    check_jq "default tag is latest" "$LD/index.json" \
        '[.manifests[].annotations["org.opencontainers.image.ref.name"]] == ["latest"]' .manifests
    m=$(blob_path "$LD" "$(layout_manifest_digest "$LD" latest)")
    cfg=$(blob_path "$LD" "$(jq -r .config.digest "$m" 2>/dev/null)")
    check_jq "default architecture = host ($HOST_ARCH), os linux, no variant" "$cfg" \
        ".architecture == \"$HOST_ARCH\" and .os == \"linux\" and (has(\"variant\") | not)" '{architecture, os, variant}'
    NOW=$(date +%s)
    created=$(jq -r .created "$cfg")
    created_s=$(date -u -d "$created" +%s 2>/dev/null || echo 0)
    if [ $((NOW - created_s)) -ge -5 ] && [ $((NOW - created_s)) -le 300 ]; then
        pass "default created is now (RFC 3339): $created"
    else
        fail "default created is now (RFC 3339)" "created=$created now=$(date -u +%FT%TZ)"
    fi
    check_jq "default config: no Entrypoint/Cmd/User/Labels/ExposedPorts" "$cfg" \
        '(.config // {}) | (has("Entrypoint") or has("Cmd") or has("User") or has("Labels") or has("ExposedPorts")) | not' .config
    [ $HAVE_OIT = 1 ] && check "defaults: oci-image-tool validate" oci-image-tool validate --type image --ref name=latest "$LD"
fi

# --- SOURCE_DATE_EPOCH ------------------------------------------------------------------
echo "# SOURCE_DATE_EPOCH"
SDE=1650000000
LS=$TEST_TMP/layout-sde
if SOURCE_DATE_EPOCH=$SDE run_ocipack "build with SOURCE_DATE_EPOCH=$SDE" "$TEST_TMP/build-sde" \
    build "$SRC" -o "$LS" --tag sde --chunk-size 256K; then
    m=$(blob_path "$LS" "$(layout_manifest_digest "$LS" sde)")
    cfg=$(blob_path "$LS" "$(jq -r .config.digest "$m" 2>/dev/null)")
    check_jq "SOURCE_DATE_EPOCH sets created" "$cfg" ".created == \"$(date -u -d @$SDE +%Y-%m-%dT%H:%M:%SZ)\"" .created
    if [ $HAVE_UMOCI = 1 ]; then
        if check "umoci unpack (SOURCE_DATE_EPOCH image)" umoci unpack --image "$LS:sde" "$TEST_TMP/sde-bundle"; then
            if "$PY" "$TESTS_DIR/compare_trees.py" --ignore-sockets --clamp $SDE "$SRC" "$TEST_TMP/sde-bundle/rootfs" \
                >"$TEST_TMP/cmp-sde.out" 2>&1; then
                pass "mtimes clamped to SOURCE_DATE_EPOCH, all else identical (compare_trees.py --clamp)"
            else
                fail "mtimes clamped to SOURCE_DATE_EPOCH, all else identical (compare_trees.py --clamp)" "differences:"
                head -20 "$TEST_TMP/cmp-sde.out" | sed 's/^/    | /'
            fi
        fi
    else
        skip "SOURCE_DATE_EPOCH mtime clamp via umoci" "umoci not installed"
    fi
    SOURCE_DATE_EPOCH=$SDE run_ocipack "--created wins over SOURCE_DATE_EPOCH (build)" "$TEST_TMP/build-sde2" \
        build "$SRC" -o "$TEST_TMP/layout-sde2" --tag sde --chunk-size 256K --created "$CREATED"
    m=$(blob_path "$TEST_TMP/layout-sde2" "$(layout_manifest_digest "$TEST_TMP/layout-sde2" sde)")
    cfg=$(blob_path "$TEST_TMP/layout-sde2" "$(jq -r .config.digest "$m" 2>/dev/null)")
    check_jq "--created wins over SOURCE_DATE_EPOCH" "$cfg" ".created == \"$CREATED\"" .created
fi

# --- multi-tag ---------------------------------------------------------------------------
echo "# multi-tag"
TAG2=test:2
if run_ocipack "build a second tag into the same layout" "$TEST_TMP/build-tag2" build "$SRC" -o "$L" \
    --tag "$TAG2" --created "$CREATED" --cmd "/bin/echo second"; then
    check_jq "index.json has both tags" "$L/index.json" \
        "([.manifests[].annotations[\"org.opencontainers.image.ref.name\"]] | sort) == [\"$TAG\", \"$TAG2\"]" .manifests
    check_eq "first tag's manifest unchanged" "$MANIFEST_DIGEST" "$(layout_manifest_digest "$L" "$TAG")"
    check_layout_blobs "two-tag layout" "$L"
    if [ $HAVE_OIT = 1 ]; then
        check "oci-image-tool validate $TAG after adding $TAG2" oci-image-tool validate --type image --ref "name=$TAG" "$L"
        check "oci-image-tool validate $TAG2" oci-image-tool validate --type image --ref "name=$TAG2" "$L"
    fi
    if [ $HAVE_SKOPEO = 1 ]; then
        check "skopeo inspect $TAG2 (Cmd)" sh -c \
            "skopeo --insecure-policy inspect --config 'oci:$L:$TAG2' | jq -e '.config.Cmd == [\"/bin/echo\",\"second\"]'"
    fi
    [ $HAVE_UMOCI = 1 ] && check "umoci ls lists both tags" sh -c "[ \"\$(umoci ls --layout '$L' | sort | tr '\n' ' ')\" = '$TAG $TAG2 ' ]"
    TAG2_DIGEST=$(layout_manifest_digest "$L" "$TAG2")
    if run_ocipack "rebuild the second tag with another Cmd" "$TEST_TMP/build-tag2b" build "$SRC" -o "$L" \
        --tag "$TAG2" --created "$CREATED" --cmd "/bin/echo replaced"; then
        check_jq "rebuilding a tag replaces its entry (still 2 manifests)" "$L/index.json" '(.manifests | length) == 2' .manifests
        new=$(layout_manifest_digest "$L" "$TAG2")
        if [ -n "$new" ] && [ "$new" != "$TAG2_DIGEST" ]; then pass "rebuilt tag points at a new manifest"
        else fail "rebuilt tag points at a new manifest" "old=$TAG2_DIGEST new=$new"; fi
        check_eq "first tag still unchanged" "$MANIFEST_DIGEST" "$(layout_manifest_digest "$L" "$TAG")"
        [ $HAVE_OIT = 1 ] && check "oci-image-tool validate $TAG after replacing $TAG2" \
            oci-image-tool validate --type image --ref "name=$TAG" "$L"
        [ $HAVE_OIT = 1 ] && check "oci-image-tool validate replaced $TAG2" \
            oci-image-tool validate --type image --ref "name=$TAG2" "$L"
    fi
fi

# --- a layout made by another tool --------------------------------------------------------
echo "# layout made by umoci"
if [ $HAVE_UMOCI = 1 ]; then
    U=$TEST_TMP/umoci-layout
    UB2=$TEST_TMP/umoci-made-bundle
    if umoci init --layout "$U" >"$TEST_TMP/umoci-made.log" 2>&1 &&
        umoci new --image "$U:other" >>"$TEST_TMP/umoci-made.log" 2>&1 &&
        umoci unpack --image "$U:other" "$UB2" >>"$TEST_TMP/umoci-made.log" 2>&1 &&
        printf 'made by umoci\n' >"$UB2/rootfs/from-umoci" &&
        umoci repack --image "$U:other" "$UB2" >>"$TEST_TMP/umoci-made.log" 2>&1; then
        # Extra fields ocipack does not write itself must survive too.
        jq '.manifests[0].platform = {"architecture": "amd64", "os": "linux"}
            | .manifests[0].annotations["org.example.keep"] = "yes"' "$U/index.json" >"$U/index.json.new" &&
            mv "$U/index.json.new" "$U/index.json"
        OTHER_ENTRY=$(jq -cS '.manifests[0]' "$U/index.json")
        find "$U/blobs" -type f | LC_ALL=C sort >"$TEST_TMP/umoci-blobs.before"
        if run_ocipack "build into a layout made by umoci" "$TEST_TMP/build-umoci-made" build "$SRC" -o "$U" \
            --tag "$TAG" --created "$CREATED" --quiet; then
            check_eq "umoci's index entry kept verbatim (platform, extra annotation)" "$OTHER_ENTRY" \
                "$(jq -cS '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "other")' "$U/index.json")"
            check_jq "index.json has umoci's tag and ours" "$U/index.json" \
                "([.manifests[].annotations[\"org.opencontainers.image.ref.name\"]] | sort) == [\"other\", \"$TAG\"]" .manifests
            find "$U/blobs" -type f | LC_ALL=C sort >"$TEST_TMP/umoci-blobs.after"
            if [ -z "$(comm -23 "$TEST_TMP/umoci-blobs.before" "$TEST_TMP/umoci-blobs.after")" ]; then
                pass "no existing blob removed"
            else
                fail "no existing blob removed" "$(comm -23 "$TEST_TMP/umoci-blobs.before" "$TEST_TMP/umoci-blobs.after" | head -3)"
            fi
            check "umoci unpack of umoci's own tag still works" umoci unpack --image "$U:other" "$TEST_TMP/umoci-other-bundle"
            check "umoci's file is in its tag" test -f "$TEST_TMP/umoci-other-bundle/rootfs/from-umoci"
            check "umoci unpack of our tag in the shared layout" umoci unpack --image "$U:$TAG" "$TEST_TMP/umoci-ours-bundle"
            if [ $HAVE_OIT = 1 ]; then
                check "oci-image-tool validate umoci's tag" oci-image-tool validate --type image --ref name=other "$U"
                check "oci-image-tool validate our tag in umoci's layout" oci-image-tool validate --type image --ref "name=$TAG" "$U"
            fi
        fi
    else
        fail "make a layout with umoci (init/new/unpack/repack)" "$(tail -n 3 "$TEST_TMP/umoci-made.log")"
    fi
else
    skip "build into a layout made by umoci" "umoci not installed"
fi

finish
