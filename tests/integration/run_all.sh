#!/bin/bash
# run_all.sh OCIPACK
#
# Runs every integration test script against the given ocipack binary and
# prints one summary line per script plus a total.  Exit status is non-zero if
# any script failed (SKIPs do not fail the run; they are listed by each script).
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 PATH/TO/ocipack" >&2
    exit 2
fi
dir=$(cd "$(dirname "$0")" && pwd)
bin=$1
case "$bin" in /*) ;; *) bin="${PWD%/}/$bin" ;; esac

status=0
summary=()
for t in test_cli.sh test_consumers.sh test_formats.sh test_zstd.sh test_zstd_chunked.sh test_layers.sh test_index.sh test_tar_input.sh test_big_file.sh test_crash.sh test_cache.sh test_yocto.sh test_runc.sh test_podman.sh test_containerd.sh test_registry.sh test_library.sh test_bad_input.sh test_hostile_base.sh test_hostile_layout.sh test_hostile_output.sh test_real_rootfs.sh test_referrers.sh test_cache_remote.sh test_ls_diff.sh test_docs_install.sh test_json_output.sh test_terminal.sh test_refs.sh test_yocto_recipe.sh test_add_layer.sh test_yocto_nonroot.sh test_tarball_refs.sh; do
    echo "=== $t"
    bash "$dir/$t" "$bin"
    rc=$?
    [ $rc -ne 0 ] && status=1
    summary+=("$t: exit $rc")
done
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $status
