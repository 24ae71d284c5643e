SUMMARY = "ocipack: turn a root filesystem into an OCI image layout, fast"
DESCRIPTION = "Native tool used by meta-virtualization's image-oci class when \
OCI_IMAGE_BACKEND = \"ocipack\" (see image-oci-ocipack.inc)."
SECTION = "devel"
# Set to the project's licence (and LIC_FILES_CHKSUM) once it ships a LICENSE file.
LICENSE = "CLOSED"

# Example source, a placeholder: set OCIPACK_SRC_URI and SRCREV to your ocipack
# repository and commit, or use externalsrc during development
# (INHERIT += "externalsrc", EXTERNALSRC:pn-ocipack-native = "/path/to/ocipack").
OCIPACK_SRC_URI ?= "git://git.example.invalid/ocipack.git;protocol=https;branch=main"
SRC_URI = "${OCIPACK_SRC_URI}"
SRCREV ?= "${AUTOREV}"
PV = "0.1.0+git"
S = "${WORKDIR}/git"

# Where the dependencies come from (all must be buildable as -native):
#   cmake-native, pkgconfig-native, openssl-native  openembedded-core
#   zstd-native           openembedded-core (recipes-extended/zstd)
#   tbb-native            meta-oe (recipes-support/tbb, BBCLASSEXTEND native)
#   nlohmann-json-native  meta-oe (recipes-devtools/nlohmann-json, BBCLASSEXTEND native)
#   cli11-native          meta-oe (recipes-support/cli11, BBCLASSEXTEND native)
#   libdeflate-native     meta-oe (recipes-extended/libdeflate) has no
#                         BBCLASSEXTEND: add libdeflate_%.bbappend from this
#                         directory to your layer
#   isa-l-native          not in meta-oe; meta-intel has recipes-support/isa-l
#                         (target only, x86_64): add isa-l_%.bbappend from this
#                         directory, or build without ISA-L (PACKAGECONFIG below)
DEPENDS = "tbb-native libdeflate-native openssl-native nlohmann-json-native cli11-native zstd-native"

inherit cmake pkgconfig native

# isal: the ISA-L gzip backend (--compressor isal / --fast). Without it only
# libdeflate is used; this needs ocipack's CMake option OCIPACK_WITH_ISAL.
PACKAGECONFIG ??= "isal"
PACKAGECONFIG[isal] = "-DOCIPACK_WITH_ISAL=ON,-DOCIPACK_WITH_ISAL=OFF,isa-l-native"

# No GoogleTest / Google Benchmark in the sysroot: only the tool.
EXTRA_OECMAKE += "-DOCIPACK_BUILD_TESTS=OFF -DOCIPACK_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release"

# `ocipack` lands in ${bindir} of the native sysroot, which is on PATH for
# do_image_oci once image-oci.bbclass adds
# do_image_oci[depends] += "ocipack-native:do_populate_sysroot".
