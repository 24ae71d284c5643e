#!/bin/bash
# test_hostile_base.sh OCIPACK
#
# Hostile base images (`build --base L:T [--diff-against-base]`), as root. A
# decoy tree outside every layout (files, a directory, a symlink) is what the
# hostile bases aim at, by absolute path. The bases are OCI layouts made here
# with Python's tarfile: whiteouts through symlinks the base itself created
# (`link -> DECOY` then `link/.wh.file`, opaque markers below a symlinked
# directory), `..`-like and other malformed whiteout names (bare `.wh.`,
# `.wh..`, `.wh...`, `.wh..wh.x`), whiteouts with data, entries below a
# symlink or a file, paths with `..`, an entry 5000 directories deep, a
# layer blob with the right size but
# the wrong content, a blob that is a symlink to a decoy file, a FIFO as a
# blob. For each: exit status 1, one error line naming the culprit, the decoy
# tree byte-identical (find -printf + sha256 before and after), the existing
# output layout unchanged (no scratch tree, no new blob). Good bases still
# work: a same-layer opaque marker does not remove its own layer's entries,
# a new hard link to an unchanged base file comes out as a hard link, and an
# `-o` reached through a symlinked path component is built without the
# symlink being touched; each is checked with `umoci unpack` and
# compare_trees.py against the expected tree.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP
SDE=1700000000
export SOURCE_DATE_EPOCH=$SDE

if ! require_tool python3 umoci jq sha256sum timeout; then
    skip "all checks" "missing tools: $MISSING_TOOLS"
    finish
fi

# --- the decoy: what a hostile base would delete or overwrite on the host.
DECOY=$T/decoy
mkdir -p "$DECOY/sub/deeper"
echo precious > "$DECOY/file1"
echo precious2 > "$DECOY/sub/file2"
echo deep > "$DECOY/sub/deeper/file3"
ln -s /etc/hostname "$DECOY/symlink"
snapshot_decoy() {
    (cd "$DECOY" && find . -printf '%p %y %m %U:%G %s %n %T@ %l\n' | sort &&
        find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
snapshot_decoy > "$T/decoy.before"

# --- the hostile (and good) base layouts, made with Python's tarfile.
# make_layout.py LAYOUT SPEC: SPEC is JSON: a list of layers, each a list of
# [kind, path, extra] with kind file|dir|symlink|hardlink|fifo; the image is
# tagged "base". Layers are gzip'd; diff_ids are right.
cat > "$T/make_layout.py" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
out, spec = sys.argv[1], json.loads(sys.argv[2])
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{h}", "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
layers, diff_ids = [], []
for entries in spec:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, extra in entries:
            i = tarfile.TarInfo(path); i.mtime = 1700000000; i.mode = 0o644
            if kind == "file":
                data = extra.encode(); i.size = len(data); t.addfile(i, io.BytesIO(data)); continue
            i.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                      "fifo": tarfile.FIFOTYPE}[kind]
            if kind == "dir": i.mode = 0o755
            if kind in ("symlink", "hardlink"): i.linkname = extra
            t.addfile(i)
    tar = buf.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
    layers.append(dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", **put(gzip.compress(tar, mtime=0))))
config = {"architecture": "amd64", "os": "linux", "config": {},
          "rootfs": {"type": "layers", "diff_ids": diff_ids}}
cd = put(json.dumps(config).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **cd), "layers": layers}
md = put(json.dumps(manifest).encode())
index = {"schemaVersion": 2, "manifests": [dict(mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "base"}, **md)]}
open(f"{out}/index.json", "w").write(json.dumps(index))
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
make_layout() { python3 "$T/make_layout.py" "$1" "$2"; }

# --- the new tree and an existing output layout that must survive every failure.
NEW=$T/new
mkdir -p "$NEW/etc" && echo new > "$NEW/etc/new"
find "$NEW" -exec touch -h -d "@$SDE" {} +
OUT=$T/out
check "control: an output layout to protect" "$OCIPACK" build "$NEW" -o "$OUT" --tag prev -q
snapshot_out() { (cd "$OUT" && find . -printf '%p %y %m %s %n\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
snapshot_out > "$T/out.before"

# hostile NAME CULPRIT_REGEX [BUILD ARGS...]: the build of $NEW on the base
# layout $T/NAME (tag "base") must fail naming the culprit and change nothing.
hostile() {
    local name=$1 culprit=$2
    shift 2
    timeout 60 "$OCIPACK" build "$NEW" -o "$OUT" --tag new --base "$T/$name:base" "$@" -q \
        >"$T/case.out" 2>"$T/case.err" </dev/null
    local rc=$?
    echo "#   $name -> status $rc: $(head -c 300 "$T/case.err")"
    check_eq "$name: exit status 1" 1 "$rc"
    one_error_line "$name" "$T/case.err" "$culprit"
    snapshot_decoy > "$T/decoy.after"
    check "$name: decoy tree unchanged" diff "$T/decoy.before" "$T/decoy.after"
    snapshot_out > "$T/out.after"
    check "$name: output layout unchanged (no scratch tree, no new blob)" diff "$T/out.before" "$T/out.after"
}

# 1. Whiteouts through symlinks that the base created.
make_layout "$T/wh-through-symlink" "[[[\"symlink\",\"link\",\"$DECOY\"]],[[\"file\",\"link/.wh.file1\",\"\"]]]"
hostile wh-through-symlink "base layer 2 .*'link/.wh.file1' lies below 'link', which is a symlink" --diff-against-base
make_layout "$T/opaque-through-symlink" "[[[\"symlink\",\"link\",\"$DECOY\"]],[[\"file\",\"link/.wh..wh..opq\",\"\"]]]"
hostile opaque-through-symlink "'link/.wh..wh..opq' lies below 'link'" --diff-against-base
make_layout "$T/opaque-below-symlinked-dir" \
    "[[[\"dir\",\"d\",\"\"],[\"symlink\",\"d/s\",\"$DECOY/sub\"]],[[\"file\",\"d/s/deeper/.wh..wh..opq\",\"\"]]]"
hostile opaque-below-symlinked-dir "'d/s/deeper/.wh..wh..opq' lies below 'd/s', which is a symlink" --diff-against-base
make_layout "$T/same-layer-symlink-whiteout" "[[[\"symlink\",\"link\",\"$DECOY\"],[\"file\",\"link/.wh.sub\",\"\"]]]"
hostile same-layer-symlink-whiteout "'link/.wh.sub' lies below 'link'" --diff-against-base

# 2. '..'-like and other malformed whiteout names, whiteouts with data.
for bad in '.wh...' '.wh..' '.wh.' 'etc/.wh...' '.wh..wh.x' 'etc/.wh..wh..opqx'; do
    tag=$(echo "$bad" | tr './' '_-')
    make_layout "$T/malformed$tag" "[[[\"dir\",\"etc\",\"\"],[\"file\",\"etc/f\",\"x\"]],[[\"file\",\"$bad\",\"\"]]]"
    hostile "malformed$tag" "base layer 2 .*entry 1 '$(printf '%s' "$bad" | sed 's/\./\\./g')' is a malformed whiteout name" \
        --diff-against-base
done
make_layout "$T/dotdot-whiteout" "[[[\"dir\",\"etc\",\"\"]],[[\"file\",\"etc/../../.wh.out\",\"\"]]]"
hostile dotdot-whiteout "'etc/\.\./\.\./\.wh\.out' has a '\.\.' component" --diff-against-base
make_layout "$T/whiteout-with-data" "[[[\"dir\",\"etc\",\"\"]],[[\"file\",\"etc/.wh.x\",\"data\"]]]"
hostile whiteout-with-data "'etc/\.wh\.x' is a whiteout with data" --diff-against-base

# 3. Entries below a symlink or a file.
make_layout "$T/entry-below-symlink" "[[[\"symlink\",\"link\",\"$DECOY\"]],[[\"file\",\"link/evil\",\"x\"]]]"
hostile entry-below-symlink "'link/evil' lies below 'link', which is a symlink" --diff-against-base
make_layout "$T/entry-below-symlink-same-layer" "[[[\"symlink\",\"a\",\"$DECOY\"],[\"file\",\"a/file1\",\"gotcha\"]]]"
hostile entry-below-symlink-same-layer "'a/file1' lies below 'a', which is a symlink" --diff-against-base
make_layout "$T/entry-below-file" "[[[\"file\",\"a\",\"f\"],[\"file\",\"a/b\",\"x\"]]]"
hostile entry-below-file "'a/b' lies below 'a', which is a regular file" --diff-against-base
make_layout "$T/hardlink-outside" "[[[\"hardlink\",\"h\",\"../../decoy/file1\"]]]"
hostile hardlink-outside "'h' is a hard link to '\.\./\.\./decoy/file1', outside the layer" --diff-against-base

make_layout "$T/too-deep" "[[[\"file\",\"$(printf 'a/%.0s' $(seq 5000))f\",\"x\"]]]"
hostile too-deep "base layer 1 .*entry 1 'a/a/a/.*' is more than 4096 directories deep" --diff-against-base

# 4. Blobs that are not what their descriptor says (with and without the delta).
GOOD_SPEC='[[["dir","etc",""],["file","etc/f","0123456789abcdef"]]]'
layer_blob() { jq -r '.layers[0].digest' "$(blob_path "$1" "$(jq -r '.manifests[0].digest' "$1/index.json")")" | sed 's#sha256:#blobs/sha256/#'; }
make_layout "$T/wrong-content" "$GOOD_SPEC"
blob=$T/wrong-content/$(layer_blob "$T/wrong-content")
printf '\x00' | dd of="$blob" bs=1 seek=$(($(stat -c %s "$blob") - 6)) conv=notrunc status=none
hostile wrong-content "does not match its digest" --diff-against-base
hostile wrong-content "base blob .*$(basename "$blob") does not match its digest"
make_layout "$T/blob-symlink" "$GOOD_SPEC"
blob=$T/blob-symlink/$(layer_blob "$T/blob-symlink")
mv "$blob" "$DECOY/blob-copy" && ln -s "$DECOY/blob-copy" "$blob"
snapshot_decoy > "$T/decoy.before"   # the decoy now holds the (correct) blob content
hostile blob-symlink "$(basename "$blob") is a symbolic link" --diff-against-base
hostile blob-symlink "$(basename "$blob") is a symbolic link"
make_layout "$T/blob-fifo" "$GOOD_SPEC"
blob=$T/blob-fifo/$(layer_blob "$T/blob-fifo")
rm "$blob" && mkfifo "$blob"
hostile blob-fifo "$(basename "$blob") is a FIFO, not a regular file" --diff-against-base
hostile blob-fifo "$(basename "$blob") is a FIFO, not a regular file"

# --- good bases still work.
delta_names() {  # layout:tag -> the last layer's entry names
    local layout=${1%:*} tag=${1##*:} manifest
    manifest=$(blob_path "$layout" "$(layout_manifest_digest "$layout" "$tag")")
    gzip -dc "$(blob_path "$layout" "$(jq -r '.layers[-1].digest' "$manifest")")" | tar -tf - | tr '\n' ' '
}

# A same-layer opaque marker removes only what lies below its layer: a new
# tree equal to the base's merged tree gives an empty delta.
make_layout "$T/same-layer-opaque" \
    '[[["dir","d",""],["file","d/old","o"]],[["dir","d",""],["file","d/x","new"],["file","d/.wh..wh..opq",""]]]'
mkdir -p "$T/merged/d" && echo -n new > "$T/merged/d/x"
chmod 755 "$T/merged/d" && chmod 644 "$T/merged/d/x"
find "$T/merged" -exec touch -h -d "@$SDE" {} +
check "same-layer opaque: build" "$OCIPACK" build "$T/merged" -o "$T/good1" --tag top \
    --base "$T/same-layer-opaque:base" --diff-against-base -q
check_eq "same-layer opaque: the delta is empty (d/x was not removed from the model)" "" "$(delta_names "$T/good1:top")"
unpack_equals "same-layer opaque" "$T/good1:top" "$T/merged"

# A base made by ocipack with hard links; the new tree adds a link to an
# unchanged file, splits a pair, removes a file and changes one.
V1=$T/v1
mkdir -p "$V1/x" "$V1/y" && echo linked > "$V1/x/one" && echo pair > "$V1/y/a" && ln "$V1/y/a" "$V1/y/b"
echo gone > "$V1/x/gone" && echo old > "$V1/x/changed"
find "$V1" -exec touch -h -d "@$SDE" {} +
check "hard links: base build" "$OCIPACK" build "$V1" -o "$T/base-layout" --tag v1 -q
cp -a "$V1" "$T/v2"
ln "$T/v2/x/one" "$T/v2/x/two"
rm "$T/v2/y/b" && cp -p "$T/v2/y/a" "$T/v2/y/b"
rm "$T/v2/x/gone" && echo new > "$T/v2/x/changed"
find "$T/v2" -exec touch -h -d "@$SDE" {} +
check "hard links: delta build" "$OCIPACK" build "$T/v2" -o "$T/good2" --tag v2 \
    --base "$T/base-layout:v1" --diff-against-base -q
check_eq "hard links: the delta holds the new link with its target, the split pair, the change" \
    "x/ x/.wh.gone x/changed x/one x/two y/ y/a y/b " "$(delta_names "$T/good2:v2")"
check_eq "hard links: x/two is a hard link to x/one in the layer" "hrw-r--r-- 0/0 0 2023-11-14 22:13 x/two link to x/one" \
    "$(gzip -dc "$(blob_path "$T/good2" "$(jq -r '.layers[-1].digest' "$(blob_path "$T/good2" "$(layout_manifest_digest "$T/good2" v2)")")")" | tar -tvf - x/two | tr -s " ")"
unpack_equals "hard links: base + delta" "$T/good2:v2" "$T/v2"
check "hard links: --diff-base of the same tree gives the same layer" "$OCIPACK" build "$T/v2" -o "$T/good3" --tag v2 \
    --base "$T/base-layout:v1" --diff-base "$V1" -q
check_eq "hard links: same manifest either way" "$(layout_manifest_digest "$T/good2" v2)" "$(layout_manifest_digest "$T/good3" v2)"

# -o through a symlinked path component: built, the symlink left alone.
mkdir -p "$T/real"
ln -s "$T/real" "$T/via"
check "-o through a symlinked component: build" "$OCIPACK" build "$T/v2" -o "$T/via/out" --tag v2 \
    --base "$T/base-layout:v1" --diff-against-base -q
check_eq "-o through a symlinked component: the symlink is still there" "$T/real" "$(readlink "$T/via")"
check_eq "-o through a symlinked component: the layout is in the real directory" "blobs index.json oci-layout" \
    "$(ls "$T/real/out" | tr '\n' ' ' | sed 's/ $//')"
unpack_equals "-o through a symlinked component" "$T/via/out:v2" "$T/v2"

snapshot_decoy > "$T/decoy.after"
check "at the end: decoy tree unchanged" diff "$T/decoy.before" "$T/decoy.after"
finish
