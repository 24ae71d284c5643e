#!/bin/bash
# test_library.sh OCIPACK
#
# ocipack as a library, used the way a packaging tool outside this tree uses
# it: the build directory next to OCIPACK is installed into a scratch prefix
# (`cmake --install`), tests/embed (pack_rootfs, one build_image() call) is
# configured against that prefix with find_package(ocipack) and built, and
# what it makes is checked:
#   - the install holds the public headers (not the internal ones that need
#     libarchive or simdjson), both static libraries and the CMake package;
#   - pack_rootfs's layout passes `ocipack verify`, and its manifest digest
#     equals the CLI's for the same rootfs and settings: the embedded
#     pipeline and the tool write the same bytes;
#   - a missing rootfs is one error line naming it, exit 1, nothing created.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR=$(dirname "$OCIPACK")

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    fail "find the build directory" "no CMakeCache.txt next to $OCIPACK"
    finish
fi
check "cmake --install into a scratch prefix" cmake --install "$BUILD_DIR" --prefix "$T/prefix"
P=$T/prefix
check "installed: public headers, static libraries, CMake package" test -f "$P/include/ocipack/pipeline/image_builder.h" \
    -a -f "$P/include/ocipack/core/util/result.h" -a -f "$P/lib/libocipack_core.a" -a -f "$P/lib/libocipack_pipeline.a" \
    -a -f "$P/lib/cmake/ocipack/ocipackConfig.cmake" -a -f "$P/lib/cmake/ocipack/ocipackConfigVersion.cmake"
check "installed: no internal headers" test ! -e "$P/include/ocipack/core/tar/archive_handle.h" -a ! -e "$P/include/ocipack/core/oci/json_dom.h"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
check "configure tests/embed with find_package(ocipack)" cmake -S "$REPO/tests/embed" -B "$T/embed" "${generator[@]}" \
    -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=RelWithDebInfo
check "build pack_rootfs against the installed library" cmake --build "$T/embed"
PACK=$T/embed/pack_rootfs
if [ ! -x "$PACK" ]; then
    fail "pack_rootfs" "not built"
    finish
fi

bash "$HERE/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
check "pack_rootfs builds an image" "$PACK" "$T/root" "$T/lib-layout" packed
check_contains "pack_rootfs passes the library's warning on (the socket)" "$TEST_TMP/last.err" "warning: .*run/sock"
check "ocipack verify of the library-built layout" "$OCIPACK" verify "$T/lib-layout"
check "the CLI with the same settings" "$OCIPACK" build "$T/root" -o "$T/cli-layout" --tag packed --created @1700000000 \
    --cmd /bin/sh --label org.example.packed-by=pack_rootfs -q
check_eq "library and CLI write the same manifest" \
    "$("$OCIPACK" tags "$T/cli-layout")" "$("$OCIPACK" tags "$T/lib-layout")"

"$PACK" "$T/does-not-exist" "$T/never" x >"$T/out" 2>"$T/err"
rc=$?
check_eq "missing rootfs: exit 1, one line naming it" "1 1 1" "$rc $(wc -l <"$T/err") $(grep -c "does-not-exist" "$T/err")"
check "missing rootfs: no layout created" test ! -e "$T/never"
finish
