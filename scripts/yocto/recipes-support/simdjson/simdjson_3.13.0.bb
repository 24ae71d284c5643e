# simdjson, as ocipack-native needs it (CMakeLists.txt: find_package(simdjson)):
# neither openembedded-core nor meta-openembedded has a recipe (checked on
# their master branches, 2026-08). Pinned to the release tag's commit, so the
# recipe parses without network; the fetch happens only when it is built.
SUMMARY = "simdjson: parsing gigabytes of JSON per second"
HOMEPAGE = "https://simdjson.org"
SECTION = "libs"
LICENSE = "Apache-2.0 OR MIT"
LIC_FILES_CHKSUM = "file://LICENSE;md5=08ad3d5aa0308e4e47849861fbb9da7b \
                    file://LICENSE-MIT;md5=946338fb29a1a65021a0738be03a6263"

SRC_URI = "git://github.com/simdjson/simdjson.git;protocol=https;branch=master"
# v3.13.0
SRCREV = "0c0ce1bd48baa0677dc7c0945ea7cd1e8b52b297"

inherit cmake

EXTRA_OECMAKE += "-DBUILD_SHARED_LIBS=ON -DSIMDJSON_DEVELOPER_MODE=OFF"

BBCLASSEXTEND = "native nativesdk"
