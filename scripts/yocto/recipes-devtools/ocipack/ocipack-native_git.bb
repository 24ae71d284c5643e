SUMMARY = "ocipack: turn a root filesystem into an OCI image layout, fast"
DESCRIPTION = "Native tool used by meta-virtualization's image-oci class when \
OCI_IMAGE_BACKEND = \"ocipack\" (see image-oci-ocipack.inc)."
SECTION = "devel"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57"

# Where the sources come from. ocipack has no public repository this recipe
# could pin, so the recipe parses without network and skips itself (with the
# message below, no parse error) until one of these is set, in local.conf or
# a distro/layer configuration:
#   - your repository and a commit (no network at parse time):
#       OCIPACK_SRC_URI = "git://git.example.com/ocipack.git;protocol=https;branch=main"
#       SRCREV:pn-ocipack-native = "<40-hex commit>"
#   - a local checkout, for development (scripts/yocto/README.md):
#       INHERIT += "externalsrc"
#       EXTERNALSRC:pn-ocipack-native = "/path/to/ocipack"
# SRCREV = "${AUTOREV}" also works, but asks the remote at every parse.
OCIPACK_SRC_URI ??= ""
SRC_URI = "${OCIPACK_SRC_URI}"
PV = "0.1.0+git"

python () {
    if d.getVar('EXTERNALSRC'):
        return
    how = ('see scripts/yocto/README.md of ocipack: set OCIPACK_SRC_URI and SRCREV:pn-ocipack-native, '
           'or INHERIT += "externalsrc" with EXTERNALSRC:pn-ocipack-native = "/path/to/ocipack"')
    if not (d.getVar('OCIPACK_SRC_URI') or '').strip():
        raise bb.parse.SkipRecipe('OCIPACK_SRC_URI is not set (%s)' % how)
    if (d.getVar('SRCREV') or 'INVALID') == 'INVALID':
        raise bb.parse.SkipRecipe('SRCREV is not set for OCIPACK_SRC_URI (%s)' % how)
}

# Every package CMakeLists.txt requires has its recipe here
# (tests/integration/test_recipe_depends.sh compares the two):
#   cmake-native, pkgconfig-native (inherit), openssl-native, zlib-native,
#   zstd-native, libarchive-native, curl-native   openembedded-core
#       (curl: its headers at build time; ocipack opens libcurl.so.4 with
#       dlopen only for a remote chunk cache, so it is not linked.
#       libarchive: linked into the static libraries, but the executable
#       opens libarchive.so.13 with dlopen when it first reads a tar)
#   tbb-native            meta-oe (recipes-support/tbb, BBCLASSEXTEND native)
#   nlohmann-json-native  meta-oe (recipes-devtools/nlohmann-json, BBCLASSEXTEND native)
#   cli11-native          meta-oe (recipes-support/cli11, BBCLASSEXTEND native)
#   libdeflate-native     meta-oe (recipes-extended/libdeflate) has no
#                         BBCLASSEXTEND: add libdeflate_%.bbappend from this
#                         directory to your layer
#   simdjson-native       in no OE layer: simdjson_3.13.0.bb from this directory
#   isa-l-native          only with PACKAGECONFIG "isal" (below)
DEPENDS = "tbb-native libdeflate-native openssl-native nlohmann-json-native cli11-native zstd-native \
           simdjson-native libarchive-native zlib-native curl-native"

inherit cmake pkgconfig native

# isal: the ISA-L gzip backend (--compressor isal / --fast). isa-l is not in
# meta-oe; meta-intel has recipes-support/isa-l (target only, x86_64 hosts:
# add isa-l_%.bbappend from this directory). On by default only when the
# meta-intel layer (collection "intel") is in BBLAYERS; without it only
# libdeflate is used (CMake option OCIPACK_WITH_ISAL=OFF).
PACKAGECONFIG ??= "${@bb.utils.filter('BBFILE_COLLECTIONS', 'intel', d).replace('intel', 'isal')}"
PACKAGECONFIG[isal] = "-DOCIPACK_WITH_ISAL=ON,-DOCIPACK_WITH_ISAL=OFF,isa-l-native"

# No GoogleTest / Google Benchmark in the sysroot: only the tool.
EXTRA_OECMAKE += "-DOCIPACK_BUILD_TESTS=OFF -DOCIPACK_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release"

# `ocipack` lands in ${bindir} of the native sysroot, which is on PATH for
# do_image_oci once image-oci.bbclass adds
# do_image_oci[depends] += "ocipack-native:do_populate_sysroot".
