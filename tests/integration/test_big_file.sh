#!/bin/bash
# test_big_file.sh OCIPACK
#
# A file of 8 GiB + 1 byte (sparse on disk, stored in full in the layer as
# the OCI spec wants) needs a PAX `size` record: the layer must list it with
# its exact size for GNU tar, `ocipack verify` must find the layer sound
# (diff_id = sha256 of the decompressed tar, tar well-formed), and the last
# byte must come back, with GNU tar and with umoci unpack. Uses --fast
# (ISA-L) to keep the run short.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP
size=$((8 * 1024 * 1024 * 1024 + 1))
mkdir -p "$T/root/data"
truncate -s $((size - 1)) "$T/root/data/huge" && printf 'Z' >> "$T/root/data/huge"
echo small > "$T/root/data/small"
check_eq "input file is 8 GiB + 1 byte" "$size" "$(stat -c %s "$T/root/data/huge")"
check "build (8 GiB sparse file, --fast)" "$OCIPACK" build "$T/root" -o "$T/L" --tag big --fast -q
blob=$("$OCIPACK" inspect --json "$T/L:big" | jq -r '.layers[0].digest' | cut -d: -f2)
listing=$(gzip -dc "$T/L/blobs/sha256/$blob" | tar -tvf - --numeric-owner)
check_eq "GNU tar lists the exact size" "$size" "$(awk '$6 == "data/huge" {print $3}' <<<"$listing")"
check_eq "the last byte comes back" "Z" "$(gzip -dc "$T/L/blobs/sha256/$blob" | tar -xOf - data/huge | tail -c 1)"
check "ocipack verify: layer sound, diff_id right" "$OCIPACK" verify "$T/L"

# umoci writes the file in full (8 GiB of real blocks, about a minute here);
# the scratch directory is removed at once afterwards.
free_kib=$(df -Pk "$T" | awk 'NR == 2 {print $4}')
if [ "$free_kib" -lt $((10 * 1024 * 1024)) ]; then
    fail "umoci unpack of the 8 GiB file" "needs 10 GiB free in $T, has $((free_kib / 1024)) MiB"
elif check "umoci unpack of the 8 GiB file" umoci unpack --image "$T/L:big" "$T/bundle"; then
    check_eq "umoci: exact size" "$size" "$(stat -c %s "$T/bundle/rootfs/data/huge")"
    check_eq "umoci: the last byte" "Z" "$(tail -c 1 "$T/bundle/rootfs/data/huge")"
    check "umoci: the first 64 MiB are zeros" cmp -n $((64 << 20)) "$T/bundle/rootfs/data/huge" /dev/zero
    check_eq "umoci: the small file" "small" "$(cat "$T/bundle/rootfs/data/small")"
fi
rm -rf "$T/bundle"
finish
