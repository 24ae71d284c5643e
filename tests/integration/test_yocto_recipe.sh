#!/bin/bash
# test_yocto_recipe.sh OCIPACK
#
# The native recipe scripts/yocto/recipes-devtools/ocipack/ocipack-native_git.bb without bitbake
# (issue 14, parts 1-3):
#   - its DEPENDS and PACKAGECONFIG meet every find_package/pkg_check_modules
#     of CMakeLists.txt (recipe_depends.py, whose CMake package -> recipe
#     table lives there); and the checker refuses a recipe that lacks a
#     dependency, an unknown CMake package, a PACKAGECONFIG without its
#     recipe and a requirement under an if() it cannot place;
#   - its anonymous python, run against a stand-in datastore: unconfigured
#     it raises bb.parse.SkipRecipe (a skip, never a parse error or a network
#     access), with OCIPACK_SRC_URI but no SRCREV too; configured (URI +
#     SRCREV) or with EXTERNALSRC it does not;
#   - the licence: LICENSE = "Apache-2.0", LIC_FILES_CHKSUM's md5 is that of
#     the project's LICENSE, no S = "${WORKDIR}/git" (fatal on OE-core master);
#   - simdjson_3.13.0.bb pins its SRCREV (no AUTOREV: no network at parse);
#   - scripts/yocto is a layer as BitBake reads one: conf/layer.conf's BBFILES
#     (and BBFILES_DYNAMIC for meta-intel) match every recipe and bbappend in
#     it, each exactly once; the classes are under classes/ (where inherit
#     looks); image-oci-ocipack.inc is at the layer's top, where the class's
#     bare `include image-oci-ocipack.inc` finds it through BBPATH.
# OCIPACK is accepted as every integration script's argument, not used.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

top=$(cd "$TESTS_DIR/../.." && pwd)
recipe=$top/scripts/yocto/recipes-devtools/ocipack/ocipack-native_git.bb
checker=$TESTS_DIR/recipe_depends.py
cd "$TEST_TMP" || exit 1

check "DEPENDS/PACKAGECONFIG meet CMakeLists.txt" python3 "$checker" "$top/CMakeLists.txt" "$recipe"

# refused NAME PATTERN CMAKELISTS RECIPE: the checker exits 1 naming PATTERN.
refused() {
    python3 "$checker" "$3" "$4" >refusal 2>&1
    local rc=$?
    check_eq "$1: exit 1" 1 "$rc"
    check_contains "$1: names the culprit" refusal "$2"
}
sed 's/ simdjson-native / /' "$recipe" >no_simdjson.bb
refused "a recipe without simdjson-native" "'simdjson'.*DEPENDS" "$top/CMakeLists.txt" no_simdjson.bb
sed 's/^find_package(ZLIB REQUIRED)$/&\nfind_package(Frobnicate REQUIRED)/' "$top/CMakeLists.txt" >unknown.cmake
check_contains "the unknown package is in the altered CMakeLists" unknown.cmake '^find_package\(Frobnicate'
refused "a CMake package the table does not know" "'Frobnicate'.*does not know" unknown.cmake "$recipe"
sed 's/,isa-l-native"$/,"/' "$recipe" >no_isal.bb
refused "PACKAGECONFIG[isal] without isa-l-native" "libisal.*does not depend on isa-l-native" "$top/CMakeLists.txt" no_isal.bb
sed 's/^if(OCIPACK_WITH_ISAL)$/if(NOT OCIPACK_WITH_ISAL)/' "$top/CMakeLists.txt" >odd_if.cmake
refused "a requirement under an if() it cannot place" "libisal.*cannot tell" odd_if.cmake "$recipe"

# The recipe's anonymous python against a stand-in datastore.
cat >anon.py <<'PY'
import re, sys
text = open(sys.argv[1]).read()
body = re.search(r"^python \(\) \{\n(.*?)^\}", text, re.S | re.M).group(1)
class SkipRecipe(Exception):
    pass
class bb:
    class parse:
        SkipRecipe = SkipRecipe
class Data:
    def __init__(self, values):
        self.values = values
    def getVar(self, name, expand=True):
        return self.values.get(name)
code = "def anonymous(d):\n" + body
scope = {"bb": bb}
exec(code, scope)
cases = {
    "unconfigured": ({"SRCREV": "INVALID"}, "OCIPACK_SRC_URI is not set"),
    "uri without SRCREV": ({"OCIPACK_SRC_URI": "git://h/o.git;protocol=https;branch=main", "SRCREV": "INVALID"}, "SRCREV is not set"),
    "uri and SRCREV": ({"OCIPACK_SRC_URI": "git://h/o.git;protocol=https;branch=main", "SRCREV": "a" * 40}, None),
    "externalsrc": ({"EXTERNALSRC": "/src/ocipack", "SRCREV": "INVALID"}, None),
}
for name, (values, skip) in cases.items():
    try:
        scope["anonymous"](Data(values))
        got = None
    except SkipRecipe as e:
        got = str(e)
    ok = (skip is None and got is None) or (skip is not None and got is not None and skip in got and "externalsrc" in got)
    print("%s %s: %s" % ("ok" if ok else "WRONG", name, got))
PY
python3 anon.py "$recipe" >anon.out 2>&1
cat anon.out | sed 's/^/  /'
check_eq "the anonymous python: 4 cases, each right" 4 "$(grep -c '^ok ' anon.out)"

check_contains "LICENSE = Apache-2.0" "$recipe" '^LICENSE = "Apache-2.0"$'
md5=$(md5sum <"$top/LICENSE" | cut -d' ' -f1)
check_contains "LIC_FILES_CHKSUM is the md5 of LICENSE ($md5)" "$recipe" "^LIC_FILES_CHKSUM = \"file://LICENSE;md5=$md5\"\$"
check_eq "LICENSE is the Apache License 2.0" "Apache License" "$(head -n 2 "$top/LICENSE" | tr -s ' \n' ' ' | sed 's/^ *//; s/ *Version.*//; s/ *$//')"
if grep -Eq '^S = "\$\{(WORKDIR|UNPACKDIR)\}/git"' "$recipe"; then
    fail "no S = \${WORKDIR}/git" "OE-core master's insane.bbclass refuses it"
else
    pass "no S = \${WORKDIR}/git"
fi
if grep -q AUTOREV "$top/scripts/yocto/recipes-support/simdjson/simdjson_3.13.0.bb" || ! grep -Eq '^SRCREV = "[0-9a-f]{40}"$' "$top/scripts/yocto/recipes-support/simdjson/simdjson_3.13.0.bb"; then
    fail "simdjson recipe pins SRCREV" "$(grep SRCREV "$top/scripts/yocto/recipes-support/simdjson/simdjson_3.13.0.bb")"
else
    pass "simdjson recipe pins SRCREV"
fi
# The layer: what BitBake's BBFILES globs take, against what is there.
layer=$top/scripts/yocto
check "conf/layer.conf exists" test -f "$layer/conf/layer.conf"
python3 - "$layer" >layer.out 2>&1 <<'PY'
import glob, os, re, sys
layer = sys.argv[1]
conf = open(os.path.join(layer, "conf/layer.conf")).read()
def values(name):
    return [v for m in re.finditer(r'^%s \+= "([^"]*)"' % name, conf, re.M) for v in m.group(1).split()]
globs = [g.replace("${LAYERDIR}", layer) for g in values("BBFILES")]
dynamic = [g.split(":", 1)[1].replace("${LAYERDIR}", layer) for g in values("BBFILES_DYNAMIC")]
taken = {}
for g in globs + dynamic:
    for f in glob.glob(g):
        taken[f] = taken.get(f, 0) + 1
present = [os.path.join(d, f) for d, _, fs in os.walk(layer) for f in fs if f.endswith((".bb", ".bbappend"))]
for f in sorted(present):
    n = taken.get(f, 0)
    print("%s %s" % ("ok" if n == 1 else "WRONG(%d)" % n, os.path.relpath(f, layer)))
print(("ok" if re.search(r'^BBPATH \.= ":\$\{LAYERDIR\}"$', conf, re.M) else "WRONG") + " BBPATH")
for f in glob.glob(os.path.join(layer, "**/*.bbclass"), recursive=True):
    print("%s %s" % ("ok" if os.path.dirname(f) == os.path.join(layer, "classes") else "WRONG", os.path.relpath(f, layer)))
PY
sed 's/^/  /' layer.out
check_eq "every recipe/bbappend taken once by BBFILES, BBPATH set, classes in classes/" "" "$(grep -v '^ok ' layer.out)"
check "a layer with recipes and classes was read" test "$(grep -c '^ok ' layer.out)" -ge 7
check "image-oci-ocipack.inc at the layer's top" test -f "$layer/image-oci-ocipack.inc"
check_contains "the isa-l bbappend only with meta-intel" "$layer/conf/layer.conf" '^BBFILES_DYNAMIC \+= "intel:'
finish
