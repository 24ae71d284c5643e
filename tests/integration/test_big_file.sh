#!/bin/bash
# test_big_file.sh OCIPACK
#
# A file of 8 GiB + 1 byte (sparse on disk, stored in full in the layer as
# the OCI spec wants) needs a PAX `size` record: the layer must list it with
# its exact size for GNU tar, `ocipack verify` must find the layer sound
# (diff_id = sha256 of the decompressed tar, tar well-formed), and the last
# byte must come back. Uses --fast (ISA-L) to keep the run short.
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
finish
