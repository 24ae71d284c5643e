#!/usr/bin/env python3
"""recipe_depends.py CMAKELISTS RECIPE

Checks that the Yocto recipe (scripts/yocto/recipes-devtools/ocipack/ocipack-native_git.bb) depends on
a recipe for every package the top-level CMakeLists.txt requires, so that
do_configure cannot fail on a dependency added to CMake and forgotten in the
recipe (issue 14, part 2). test_recipe_depends.sh runs it.

- CMake side: every find_package(NAME ...) and pkg_check_modules(PREFIX ...
  MODULE) outside bracket arguments and comments. One at the top level (not
  inside an if()) must be met by the recipe's DEPENDS (or a class it
  inherits: cmake, pkgconfig); one inside if(OPTION) must be met by the deps
  of a PACKAGECONFIG entry whose enable argument is -DOPTION=ON and whose
  disable argument is -DOPTION=OFF. One inside any other if() cannot be
  placed and fails the check.
- Recipe side: DEPENDS assignments (=, ?=, +=, :append), `inherit` lines and
  PACKAGECONFIG[name] = "enable,disable,depends,...".
- The CMake package -> OE recipe table lives here: a package the table does
  not know fails the check (add it to K_RECIPE_OF with the recipe that
  provides it), so the two files cannot drift apart silently.

Prints one line per problem and exits 1 when there is any, else prints a
summary and exits 0; 2 for bad usage or unreadable files.
"""
import re
import sys

# CMake package (find_package NAME, or pkg-config module) -> the OE recipe
# that provides it to a native build.
K_RECIPE_OF = {
    "PkgConfig": "pkgconfig-native",
    "TBB": "tbb-native",
    "OpenSSL": "openssl-native",
    "nlohmann_json": "nlohmann-json-native",
    "CLI11": "cli11-native",
    "simdjson": "simdjson-native",
    "ZLIB": "zlib-native",
    "CURL": "curl-native",  # headers at build time; libcurl.so.4 is dlopen'ed at run time
    "libdeflate": "libdeflate-native",
    "libarchive": "libarchive-native",
    "libzstd": "zstd-native",
    "libisal": "isa-l-native",
}

# What an inherited class adds to DEPENDS.
K_CLASS_DEPENDS = {"cmake": {"cmake-native"}, "pkgconfig": {"pkgconfig-native"}}


def strip_cmake(text):
    """CMake text without bracket arguments/comments and line comments."""
    text = re.sub(r"#?\[(=*)\[.*?\]\1\]", " ", text, flags=re.S)
    return re.sub(r'#[^\n]*', "", text)


def cmake_commands(text):
    """(name, arguments) of every command, in order; arguments as words."""
    commands = []
    for match in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", text):
        depth, i = 1, match.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        commands.append((match.group(1).lower(), text[match.end():i - 1].split()))
    return commands


def cmake_requirements(text):
    """[(package, condition)]: condition None at the top level, else the
    text of the innermost enclosing if()."""
    requirements, conditions = [], []
    for name, args in cmake_commands(strip_cmake(text)):
        if name == "if":
            conditions.append(" ".join(args))
        elif name == "endif" and conditions:
            conditions.pop()
        elif name in ("find_package", "pkg_check_modules"):
            if name == "find_package":
                packages = args[:1]
            else:  # PREFIX [REQUIRED] [QUIET] [IMPORTED_TARGET] [GLOBAL] MODULE...
                keywords = {"REQUIRED", "QUIET", "IMPORTED_TARGET", "GLOBAL", "NO_CMAKE_PATH",
                            "NO_CMAKE_ENVIRONMENT_PATH"}
                packages = [re.split(r"[<>=]", a)[0] for a in args[1:] if a not in keywords]
            for package in packages:
                requirements.append((package, conditions[-1] if conditions else None))
    return requirements


def bitbake_assignments(text):
    """(name, operator, value) of each assignment, continuation lines joined."""
    text = re.sub(r"\\\n", " ", text)
    result = []
    for line in text.splitlines():
        match = re.match(r'\s*([A-Za-z0-9_\-\[\]:${}.]+)\s*(\?\?=|\?=|\+=|=\+|\.=|=\.|:=|=)\s*"(.*)"\s*$', line)
        if match:
            result.append(match.groups())
    return result


def recipe_dependencies(text):
    """(DEPENDS words incl. inherited classes', {packageconfig: (enable, disable, deps)})."""
    depends, packageconfig = set(), {}
    for name, operator, value in bitbake_assignments(text):
        if name in ("DEPENDS", "DEPENDS:append", "DEPENDS:prepend"):
            if operator in ("=", ":=", "?=", "??=") and name == "DEPENDS":
                depends = set()
            depends |= set(value.split())
        pc = re.fullmatch(r"PACKAGECONFIG\[([^\]]+)\]", name)
        if pc:
            fields = (value.split(",") + ["", "", ""])[:3]
            packageconfig[pc.group(1)] = (fields[0].split(), fields[1].split(), set(fields[2].split()))
    for line in re.sub(r"\\\n", " ", text).splitlines():
        match = re.match(r"\s*inherit\s+(.*)$", line)
        if match:
            for cls in match.group(1).split():
                depends |= K_CLASS_DEPENDS.get(cls, set())
    return depends, packageconfig


def check(cmake_text, recipe_text):
    problems = []
    depends, packageconfig = recipe_dependencies(recipe_text)
    requirements = cmake_requirements(cmake_text)
    if not requirements:
        problems.append("CMakeLists.txt: no find_package or pkg_check_modules found (is this the right file?)")
    for package, condition in requirements:
        recipe = K_RECIPE_OF.get(package)
        if recipe is None:
            problems.append("CMake requires '%s', which the table in %s does not know: add its OE recipe to K_RECIPE_OF "
                            "and to the recipe's DEPENDS" % (package, __file__.rsplit("/", 1)[-1]))
            continue
        if condition is None:
            if recipe not in depends:
                problems.append("CMake requires '%s' (recipe %s), missing from the recipe's DEPENDS" % (package, recipe))
            continue
        option = re.fullmatch(r"([A-Za-z0-9_]+)", condition)
        if not option:
            problems.append("CMake requires '%s' under if(%s): cannot tell which PACKAGECONFIG turns that on" %
                            (package, condition))
            continue
        on, off = "-D%s=ON" % option.group(1), "-D%s=OFF" % option.group(1)
        owners = [n for n, (enable, disable, deps) in packageconfig.items() if on in enable and off in disable]
        if not owners:
            problems.append("CMake requires '%s' when %s: no PACKAGECONFIG entry passes %s/%s" % (package, condition, on, off))
        elif not any(recipe in packageconfig[n][2] for n in owners):
            problems.append("CMake requires '%s' when %s: PACKAGECONFIG[%s] does not depend on %s" %
                            (package, condition, owners[0], recipe))
    return problems, len(requirements)


def main(argv):
    if len(argv) != 3:
        print("usage: recipe_depends.py CMAKELISTS RECIPE", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            cmake_text = f.read()
        with open(argv[2]) as f:
            recipe_text = f.read()
    except OSError as error:
        print("recipe_depends.py: %s" % error, file=sys.stderr)
        return 2
    problems, count = check(cmake_text, recipe_text)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("%d CMake requirements, each met by the recipe" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
