# oci-multiarch-ocipack.bbclass: meta-virtualization's oci-multiarch class
# done with `ocipack index`.
#
# A recipe that inherits this class (instead of oci-multiarch) assembles the
# OCI images one image recipe built for several MACHINEs, each in its own
# multiconfig, into one multi-platform tag: an image index blob whose entries
# carry each image's platform as its config says (os, architecture and
# variant: arm/v7 stays arm/v7, which the upstream class drops), with
# index.json pointing at it under OCI_MULTIARCH_TAG (the nested form that
# `skopeo copy --all` reads). It keeps the upstream class's variables, task
# names, multiconfig dependencies, source lookup and output directory, so a
# recipe written for oci-multiarch works after changing the inherit line:
#
#   inherit oci-multiarch-ocipack
#   OCI_MULTIARCH_RECIPE = "myapp-container"
#   OCI_MULTIARCH_PLATFORMS = "aarch64 x86_64 arm"
#   OCI_MULTIARCH_MC[arm] = "container-arm"
#   OCI_MULTIARCH_MACHINE[arm] = "qemuarm"
#   OCI_ARCH_TO_PLATFORM[arm] = "arm/v7"
#
# Each platform's image is looked up, as upstream does, in
# ${TOPDIR}/tmp-<mc>/deploy/images/<machine>/ as <recipe>-<tag>-oci,
# <recipe>-<machine>-<tag>-oci or <recipe>-oci (<tag> =
# OCI_MULTIARCH_SOURCE_TAG with ':' -> '_'); OCI_MULTIARCH_DEPLOY[<platform>]
# names another directory. OCI_ARCH_TO_PLATFORM[<platform>] is checked
# against the image's config (a multiconfig that built the wrong
# architecture fails the task). See README.md next to this file.
#
# The shell task reads every bitbake value through a quoted here-document:
# the expanded text is data, never shell code ($(...), quotes, ; stay as
# written). Shell variables are written $oma_name, without braces.

inherit nopackages

INHIBIT_DEFAULT_DEPS = "1"

# The upstream class's variables and defaults.
OCI_MULTIARCH_RECIPE ?= ""
OCI_MULTIARCH_PLATFORMS ?= ""
OCI_MULTIARCH_MC[aarch64] ?= "container-aarch64"
OCI_MULTIARCH_MC[x86_64] ?= "container-x86-64"
OCI_MULTIARCH_MACHINE[aarch64] ?= "qemuarm64"
OCI_MULTIARCH_MACHINE[x86_64] ?= "qemux86-64"
OCI_ARCH_TO_PLATFORM[aarch64] ?= "arm64"
OCI_ARCH_TO_PLATFORM[x86_64] ?= "amd64"
OCI_MULTIARCH_OUTPUT ?= "${DEPLOY_DIR_IMAGE}/${PN}-multiarch-oci"

# This class's additions.
# OCI_MULTIARCH_TAG: the tag of the index in OCI_MULTIARCH_OUTPUT (upstream
# writes no tag; skopeo's `oci:DIR` without a tag still finds the one entry).
OCI_MULTIARCH_TAG ?= "latest"
# OCI_MULTIARCH_SOURCE_TAG: the tag of each platform's image (its
# OCI_IMAGE_TAG), in the file name looked up and in the layout.
OCI_MULTIARCH_SOURCE_TAG ?= "latest"
# OCI_MULTIARCH_SOURCES: computed at parse time from the flags above, one
# line per platform: platform, multiconfig, machine, expected platform,
# deploy directory, separated by the control character US (\037; not a
# blank, so an empty field stays a field). Not meant to be set by hand.
OCI_MULTIARCH_SOURCES = ""

deltask do_fetch
deltask do_unpack
deltask do_patch
deltask do_configure
deltask do_compile
deltask do_install
deltask do_populate_lic
deltask do_populate_sysroot
deltask do_package
deltask do_package_qa
deltask do_packagedata

# oci_multiarch_sources(d): the lines of OCI_MULTIARCH_SOURCES and the
# mcdepends of do_create_multiarch_index, from the variables above. Calls
# bb.fatal for a platform without a multiconfig or machine, or a value that
# holds a newline or the separator.
def oci_multiarch_sources(d):
    recipe = d.getVar('OCI_MULTIARCH_RECIPE') or ''
    platforms = (d.getVar('OCI_MULTIARCH_PLATFORMS') or '').split()
    if not recipe:
        bb.fatal("OCI_MULTIARCH_RECIPE must be set")
    if not platforms:
        bb.fatal("OCI_MULTIARCH_PLATFORMS must be set (e.g. 'aarch64 x86_64')")
    topdir = d.getVar('TOPDIR') or ''
    lines = []
    mcdepends = []
    for platform in platforms:
        mc = d.getVarFlag('OCI_MULTIARCH_MC', platform) or ''
        machine = d.getVarFlag('OCI_MULTIARCH_MACHINE', platform) or ''
        if not mc:
            bb.fatal("No multiconfig for platform '%s': set OCI_MULTIARCH_MC[%s]" % (platform, platform))
        if not machine:
            bb.fatal("No machine for platform '%s': set OCI_MULTIARCH_MACHINE[%s]" % (platform, platform))
        expected = d.getVarFlag('OCI_ARCH_TO_PLATFORM', platform) or ''
        deploy = d.getVarFlag('OCI_MULTIARCH_DEPLOY', platform) or \
            '%s/tmp-%s/deploy/images/%s' % (topdir, mc, machine)
        fields = [platform, mc, machine, expected, deploy]
        for field in fields:
            if '\x1f' in field or '\n' in field:
                bb.fatal("OCI multi-arch: a newline or \\x1f in %r (platform '%s')" % (field, platform))
        lines.append('\x1f'.join(fields))
        mcdepends.append('mc::%s:%s:do_image_complete' % (mc, recipe))
    return '\n'.join(lines), ' '.join(mcdepends)

python __anonymous() {
    recipe = d.getVar('OCI_MULTIARCH_RECIPE') or ''
    if '${' in recipe:
        # e.g. "${MCNAME}" in the base recipe of an mcextend variant
        raise bb.parse.SkipRecipe("oci-multiarch-ocipack: OCI_MULTIARCH_RECIPE is not set here (%s)" % recipe)
    sources, mcdepends = oci_multiarch_sources(d)
    d.setVar('OCI_MULTIARCH_SOURCES', sources)
    d.setVarFlag('do_create_multiarch_index', 'mcdepends', mcdepends)
}

do_create_multiarch_index() {
    oma_sep=$(printf '\037')
    # --- bitbake values, as data -------------------------------------------
    oma_recipe=$(cat <<'OCI_MULTIARCH_END_OF_VALUE'
${OCI_MULTIARCH_RECIPE}
OCI_MULTIARCH_END_OF_VALUE
)
    oma_output=$(cat <<'OCI_MULTIARCH_END_OF_VALUE'
${OCI_MULTIARCH_OUTPUT}
OCI_MULTIARCH_END_OF_VALUE
)
    oma_tag=$(cat <<'OCI_MULTIARCH_END_OF_VALUE'
${OCI_MULTIARCH_TAG}
OCI_MULTIARCH_END_OF_VALUE
)
    oma_source_tag=$(cat <<'OCI_MULTIARCH_END_OF_VALUE'
${OCI_MULTIARCH_SOURCE_TAG}
OCI_MULTIARCH_END_OF_VALUE
)
    oma_sources=$(cat <<'OCI_MULTIARCH_END_OF_VALUE'
${OCI_MULTIARCH_SOURCES}
OCI_MULTIARCH_END_OF_VALUE
)

    # --- checks ---------------------------------------------------------------
    if ! command -v ocipack >/dev/null 2>&1; then
        bbfatal "OCI multi-arch: ocipack not found on PATH (is ocipack-native in the sysroot?)"
    fi
    case $(ocipack --help 2>&1 || true) in
    *" index "*) ;;
    *) bbfatal "OCI multi-arch: this ocipack-native has no 'ocipack index'; update ocipack" ;;
    esac
    if [ -z "$oma_recipe" ] || [ -z "$oma_sources" ]; then
        bbfatal "OCI multi-arch: OCI_MULTIARCH_RECIPE and OCI_MULTIARCH_PLATFORMS must be set"
    fi
    case $oma_output in
    /*) ;;
    *) bbfatal "OCI multi-arch: OCI_MULTIARCH_OUTPUT must be an absolute path, not '$oma_output'" ;;
    esac
    if [ -z "$oma_tag" ]; then
        oma_tag=latest
    fi
    if [ -z "$oma_source_tag" ]; then
        oma_source_tag=latest
    fi
    oma_source_tag_fs=$(printf '%s' "$oma_source_tag" | tr ':' '_')

    # --- the per-platform images --------------------------------------------
    bbplain "Creating multi-arch OCI image index for $oma_recipe with ocipack"
    set --
    while IFS="$oma_sep" read -r oma_platform oma_mc oma_machine oma_expected oma_deploy; do
        [ -n "$oma_platform" ] || continue
        oma_layout=
        for oma_name in "$oma_recipe-$oma_source_tag_fs-oci" \
            "$oma_recipe-$oma_machine-$oma_source_tag_fs-oci" "$oma_recipe-oci"; do
            if [ -f "$oma_deploy/$oma_name/index.json" ]; then
                oma_layout=$oma_deploy/$oma_name
                break
            fi
        done
        if [ -z "$oma_layout" ]; then
            bbfatal "OCI multi-arch: no OCI image for $oma_platform ($oma_mc:$oma_recipe) in $oma_deploy (looked for $oma_recipe-$oma_source_tag_fs-oci, $oma_recipe-$oma_machine-$oma_source_tag_fs-oci, $oma_recipe-oci)"
        fi
        oma_layout=$(cd -P "$oma_layout" && pwd)
        # The platform the image's config declares, against the mapping.
        oma_found=$(ocipack inspect --json "$oma_layout:$oma_source_tag" | python3 -c '
import json, sys
c = json.load(sys.stdin).get("config", {})
print("/".join(x for x in (c.get("architecture", ""), c.get("variant", "")) if x))')
        case $oma_expected in
        ''|"$oma_found") ;;
        arm64|arm64/v8)
            case $oma_found in
            arm64|arm64/v8) ;;
            *) bbfatal "OCI multi-arch: $oma_layout is $oma_found, but OCI_ARCH_TO_PLATFORM[$oma_platform] is $oma_expected" ;;
            esac
            ;;
        *) bbfatal "OCI multi-arch: $oma_layout is $oma_found, but OCI_ARCH_TO_PLATFORM[$oma_platform] is $oma_expected" ;;
        esac
        bbplain "  $oma_platform: $oma_layout ($oma_found)"
        set -- "$@" "$oma_layout:$oma_source_tag"
    done <<OCI_MULTIARCH_END_OF_LIST
$oma_sources
OCI_MULTIARCH_END_OF_LIST

    # --- the index, written aside and moved into place -----------------------
    oma_new="$oma_output.ocipack-new"
    rm -rf "$oma_new"
    mkdir -p "$(dirname "$oma_output")"
    ocipack index -o "$oma_new" --tag "$oma_tag" "$@"
    ocipack verify "$oma_new" >/dev/null
    rm -rf "$oma_output"
    mv "$oma_new" "$oma_output"
    bbplain "Created multi-arch OCI image index: $oma_output:$oma_tag"
}

addtask do_create_multiarch_index before do_build
do_create_multiarch_index[depends] += "ocipack-native:do_populate_sysroot"
do_create_multiarch_index[vardeps] += "OCI_MULTIARCH_SOURCES OCI_MULTIARCH_TAG OCI_MULTIARCH_SOURCE_TAG"
do_create_multiarch_index[stamp-extra-info] = "${OCI_MULTIARCH_PLATFORMS}"

# As upstream: the index is written into DEPLOY_DIR_IMAGE directly; this task
# checks that it is there.
do_deploy() {
    oma_output=$(cat <<'OCI_MULTIARCH_END_OF_VALUE'
${OCI_MULTIARCH_OUTPUT}
OCI_MULTIARCH_END_OF_VALUE
)
    if [ ! -f "$oma_output/index.json" ]; then
        bbfatal "OCI multi-arch: no index at $oma_output"
    fi
    bbplain "Multi-arch OCI available at: $oma_output"
}
addtask do_deploy after do_create_multiarch_index before do_build

EXCLUDE_FROM_WORLD = "1"
