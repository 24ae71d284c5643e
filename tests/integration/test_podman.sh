#!/bin/bash
# test_podman.sh OCIPACK
#
# `podman load` — what users run on the layout tarball (`--tar-output`, the
# Yocto class's `-oci.tar`) — and the docker-archive that `docker load` takes
# (made from the layout by skopeo; no docker daemon runs here, and podman
# loads that format with the same containers/image code docker's archive
# reader follows). For each:
#   - the image loads under the name the tag gives ("name:tag" in
#     org.opencontainers.image.ref.name becomes localhost/name:tag);
#   - `podman image inspect` shows the config as given on the command line
#     (Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Labels,
#     StopSignal, Author, Architecture, Os, the layer's diff_id);
#   - the layer as containers/storage applied it (`podman image mount`, vfs
#     driver) equals the source tree in every attribute compare_trees.py
#     checks. containers/storage sets times before 1970 to the epoch on
#     purpose (pkg/system Chtimes), so mtimes compare with --floor 0.
# Containers are not started: podman's default rlimits cannot be set in every
# sandbox, and running images is test_runc.sh's job.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP

if ! require_tool podman skopeo jq python3; then
    fail "podman load" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi
use_private_podman

bash "$(dirname "$0")/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
L=$T/layout
check "build with --tar-output" "$OCIPACK" build "$T/root" -o "$L" --tag ocipack-test:1.0 --tar-output "$T/image.tar" \
    --entrypoint /bin/sh --entrypoint -c --cmd "echo hello" --env PATH=/usr/bin:/bin --env "GREETING=hi there" \
    --workdir /srv --user 1000:1000 --port 8080/tcp --port 53/udp --label org.example.role=test \
    --stop-signal SIGTERM --author "Build Bot <bot@example.com>" --created @1700000000 -q
image_json=$("$OCIPACK" inspect --json "$L:ocipack-test:1.0")
diff_id=$(jq -r '.layers[0].diff_id' <<<"$image_json")
arch=$(jq -r '.config.architecture' <<<"$image_json")

# check_loaded NAME REF: the config podman reports, and the applied layer.
check_loaded() {
    local name=$1 ref=$2 info
    info=$("${PODMAN[@]}" image inspect "$ref" 2>"$T/inspect.err") ||
        { fail "$name: podman image inspect $ref" "$(head -2 "$T/inspect.err")"; return; }
    check_eq "$name: config as given" \
        '["/bin/sh","-c"]|["echo","hello"]|["PATH=/usr/bin:/bin","GREETING=hi there"]|/srv|1000:1000|{"53/udp":{},"8080/tcp":{}}|{"org.example.role":"test"}|SIGTERM|Build Bot <bot@example.com>|'"$arch"'|linux' \
        "$(jq -c -r '.[0] | [(.Config.Entrypoint|tojson), (.Config.Cmd|tojson), (.Config.Env|tojson), .Config.WorkingDir, .Config.User, (.Config.ExposedPorts|tojson), (.Config.Labels|tojson), .Config.StopSignal, .Author, .Architecture, .Os] | join("|")' <<<"$info")"
    check_eq "$name: one layer, the config's diff_id" "[\"$diff_id\"]" "$(jq -c '.[0].RootFS.Layers' <<<"$info")"
    podman_mount_equals "$name: the layer containers/storage applied equals the source tree" "$ref" "$T/root"
}

if check "podman load of the layout tarball (oci-archive)" "${PODMAN[@]}" load -i "$T/image.tar"; then
    check_contains "podman load names it after the tag" "$TEST_TMP/last.out" "localhost/ocipack-test:1.0"
    check_loaded "oci-archive" localhost/ocipack-test:1.0
fi

check "skopeo copy to docker-archive (docker load's format)" skopeo --insecure-policy copy --quiet \
    "oci:$L:ocipack-test:1.0" "docker-archive:$T/docker.tar:example/ocipack-test:2.0"
"${PODMAN[@]}" rmi --all --force >/dev/null 2>&1
if check "podman load of the docker-archive" "${PODMAN[@]}" load -i "$T/docker.tar"; then
    check_loaded "docker-archive" docker.io/example/ocipack-test:2.0
fi
finish
