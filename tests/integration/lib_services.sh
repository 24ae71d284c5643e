# shellcheck shell=bash
# shellcheck disable=SC2034  # SERVICE_SKIP_REASON, CTD_*, REGISTRY*, PODMAN*, WEBDAV_* are read by the scripts that source this file
# Real-component services for one integration test script (sourced after lib.sh).
#
# The consumers of zstd and multi-platform images that need a daemon — a
# private containerd, Debian's docker-registry (distribution v2) and podman
# with a store of its own (and nginx as the HTTP store of the chunk cache's
# remote) — are started here for ONE test script and stopped
# when it exits, passes or fails. Nothing is shared with the machine:
#   - every daemon binds only to a unix socket in $TEST_TMP or to 127.0.0.1 on
#     a free port, and keeps its root, state, config and logs in $TEST_TMP;
#   - every daemon started is recorded (pid) and stopped by the EXIT trap
#     (SIGINT/SIGTERM exit through it too), mounts under $TEST_TMP are
#     unmounted before the scratch directory is removed;
#   - podman reads a storage.conf and registries.conf of its own
#     (CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF, --root/--runroot)
#     and pulls with a private policy.json (--signature-policy) over plain
#     HTTP (--tls-verify=false); the machine's store is never touched.
# A service that cannot run on this machine (no usable snapshotter, say) makes
# the start function return 1 with SERVICE_SKIP_REASON set to the exact reason;
# the caller reports it with `skip`, never as a pass.
#
# Functions:
#   services_init                       install the EXIT/INT/TERM traps (called by each start_*)
#   services_stop_checked               stop everything now and check nothing is left (PASS/FAIL)
#   start_containerd                    CTR=(ctr --address SOCK -n ocipack), CTD_SNAPSHOTTER, CTD_DIR
#   ctd_use_namespace NAME              CTR in another containerd namespace (a fresh unpack)
#   ctd_import NAME TARBALL             ctr images import (unpacks into CTD_SNAPSHOTTER)
#   ctd_mount REF DIR / ctd_unmount DIR read-only view of an image's rootfs
#   start_registry                      REGISTRY=127.0.0.1:PORT, REGISTRY_LOG (access log)
#   registry_push LAYOUT TAG REPO:TAG   skopeo copy --preserve-digests to the registry
#   start_private_podman [DRIVER]       PODMAN=(podman ... private store), PODMAN_STORAGE_CONF
#   podman_pull_partial REF             pull with partial (zstd:chunked) pulls enabled
#   registry_blob_bytes_since MARK      bytes of blob GETs in the access log after MARK
#   registry_log_mark                   a MARK for the above (the log's current line count)
#   podman_partial_pull_outcome         after podman_pull_partial: "partial: N blob(s)" or "declined: REASON"
#   start_webdav DIR / stop_webdav      nginx with WebDAV PUT: WEBDAV_URL, WEBDAV_SLOW_URL, WEBDAV_STORE, WEBDAV_LOG

SERVICE_PIDS=()
SERVICE_NAMES=()
SERVICE_SKIP_REASON=""
SERVICES_TRAPPED=0

# services_init: the EXIT trap stops every service, unmounts what is mounted
# under $TEST_TMP and then removes it (lib.sh's cleanup_tmp). INT and TERM
# exit through the EXIT trap.
services_init() {
    [ "$SERVICES_TRAPPED" = 1 ] && return 0
    SERVICES_TRAPPED=1
    trap 'services_stop_all; cleanup_tmp' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# service_started NAME PID: records a daemon for services_stop_all.
service_started() {
    SERVICE_NAMES+=("$1")
    SERVICE_PIDS+=("$2")
}

# stop_pid PID: SIGTERM, up to 10 s for it to exit, then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "# $pid did not stop on SIGTERM within 10 s: SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# unmount_under DIR: unmounts every mount point below DIR, deepest first.
unmount_under() {
    local dir=$1 mp
    [ -n "$dir" ] || return 0
    # /proc/self/mountinfo field 5 is the mount point (octal escapes for blanks).
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mp; do
        mp=$(printf '%b' "$mp")
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
    done
}

services_stop_all() {
    local i
    if [ "${PODMAN_PRIVATE:-0}" = 1 ]; then
        "${PODMAN[@]}" image unmount --all >/dev/null 2>&1
        "${PODMAN[@]}" system reset --force >/dev/null 2>&1
    fi
    for ((i = ${#SERVICE_PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${SERVICE_PIDS[$i]}"
    done
    unmount_under "${TEST_TMP:-}"
}

# services_stop_checked: stops every service now (before `finish`) and checks
# that none of their processes and no mount under $TEST_TMP is left; the
# EXIT trap then has nothing left to do.
services_stop_checked() {
    local left=() i
    services_stop_all
    for ((i = 0; i < ${#SERVICE_PIDS[@]}; i++)); do
        kill -0 "${SERVICE_PIDS[$i]}" 2>/dev/null && left+=("${SERVICE_NAMES[$i]}(${SERVICE_PIDS[$i]})")
    done
    check_eq "every daemon the test started has stopped (${SERVICE_NAMES[*]:-none})" "" "${left[*]:-}"
    check_eq "no mount left under the scratch directory" "" \
        "$(awk -v d="$TEST_TMP/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | tr '\n' ' ')"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_service PID SECONDS CMD...: polls CMD (which must give up within
# a second or two) every 0.1 s until it succeeds; gives up when process PID
# has exited or after SECONDS.
wait_for_service() {
    local pid=$1 deadline=$((SECONDS + $2))
    shift 2
    while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# tcp_listeners_of PID: the TCP listening addresses of a process (ss -ltnp).
tcp_listeners_of() {
    ss -Hltnp 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { print $4 }'
}

# ---------------------------------------------------------------- containerd

# start_containerd: a containerd of its own under $TEST_TMP/containerd: root,
# state, config; GRPC and TTRPC on unix sockets there; no CRI plugin (it
# would open a TCP streaming port), no debug or metrics listener. Chooses the
# overlayfs snapshotter when containerd reports it usable, else native.
# Sets CTR=(ctr --address SOCK --namespace ocipack), CTD_SNAPSHOTTER,
# CTD_DIR, CTD_PID. Returns 1
# with SERVICE_SKIP_REASON when containerd cannot run here.
start_containerd() {
    services_init
    CTD_DIR=$TEST_TMP/containerd
    mkdir -p "$CTD_DIR"
    local sock=$CTD_DIR/c.sock
    if [ ${#sock} -gt 100 ]; then
        SERVICE_SKIP_REASON="socket path longer than a unix socket allows: $sock (set TMPDIR shorter)"
        return 1
    fi
    cat >"$CTD_DIR/config.toml" <<EOF
version = 2
root = "$CTD_DIR/root"
state = "$CTD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
    containerd --config "$CTD_DIR/config.toml" >"$CTD_DIR/containerd.log" 2>&1 &
    CTD_PID=$!
    service_started containerd "$CTD_PID"
    CTD_SOCK=$sock
    ctd_use_namespace ocipack
    if ! wait_for_service "$CTD_PID" 20 "${CTR[@]}" --connect-timeout 1s version; then
        if kill -0 "$CTD_PID" 2>/dev/null; then
            SERVICE_SKIP_REASON="containerd did not answer on $sock within 20 s: $(grep -E 'level=(error|fatal)' "$CTD_DIR/containerd.log" | tail -1)"
        else
            SERVICE_SKIP_REASON="containerd exited: $(tail -1 "$CTD_DIR/containerd.log")"
        fi
        return 1
    fi
    local status
    status=$("${CTR[@]}" plugins ls 2>/dev/null | awk '$1 == "io.containerd.snapshotter.v1" { print $2 "=" $4 }')
    CTD_SNAPSHOTTER=""
    if grep -qx 'overlayfs=ok' <<<"$status"; then
        CTD_SNAPSHOTTER=overlayfs
    elif grep -qx 'native=ok' <<<"$status"; then
        CTD_SNAPSHOTTER=native
    else
        SERVICE_SKIP_REASON="neither the overlayfs nor the native snapshotter loaded: $(grep -E 'snapshotter\.v1\.(overlayfs|native)' "$CTD_DIR/containerd.log" | grep -E 'error|skip' | tail -2 | tr '\n' ' ')"
        return 1
    fi
    echo "# containerd $("${CTR[@]}" version 2>/dev/null | awk '/Server:/ { s = 1 } s && /Version:/ { print $2; exit }') on $sock, snapshotter $CTD_SNAPSHOTTER"
    return 0
}

# ctd_use_namespace NAME: CTR=(ctr --address SOCK --namespace NAME). Images,
# content and snapshots of one namespace are invisible to another, so an
# image imported there is unpacked afresh even when another namespace holds a
# snapshot of the same chain ID (containerd skips applying a layer whose
# snapshot exists).
ctd_use_namespace() {
    CTR=(ctr --address "$CTD_SOCK" --namespace "$1")
}

# ctd_import BASENAME TARBALL: `ctr images import` of an OCI archive (a
# layout tarball) and unpack into the chosen snapshotter. The images are
# named BASENAME:TAG from the tarball's ref.name annotations.
ctd_import() {
    "${CTR[@]}" images import --snapshotter "$CTD_SNAPSHOTTER" --base-name "$1" "$2"
}

# ctd_mount REF DIR: mounts a read-only view of REF's unpacked rootfs on DIR.
ctd_mount() {
    mkdir -p "$2"
    "${CTR[@]}" images mount --snapshotter "$CTD_SNAPSHOTTER" "$1" "$2"
}

# ctd_unmount DIR: unmounts DIR and removes its view snapshot.
ctd_unmount() {
    "${CTR[@]}" images unmount --snapshotter "$CTD_SNAPSHOTTER" --rm "$1"
}

# ---------------------------------------------------------------- registry

# start_registry: Debian's docker-registry (distribution v2) on
# 127.0.0.1:<free port>, plain HTTP, filesystem storage in
# $TEST_TMP/registry/storage, access log (one line per request, combined log
# format with the response size) in REGISTRY_LOG. Sets REGISTRY
# (127.0.0.1:PORT), REGISTRY_PID.
start_registry() {
    services_init
    local dir=$TEST_TMP/registry port
    mkdir -p "$dir/storage"
    port=$(free_port) || { SERVICE_SKIP_REASON="no free port on 127.0.0.1"; return 1; }
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
EOF
    REGISTRY_LOG=$dir/registry.log
    docker-registry serve "$dir/config.yml" >"$REGISTRY_LOG" 2>&1 &
    REGISTRY_PID=$!
    service_started docker-registry "$REGISTRY_PID"
    REGISTRY=127.0.0.1:$port
    if ! wait_for_service "$REGISTRY_PID" 20 python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://" + sys.argv[1] + "/v2/", timeout=2)' "$REGISTRY"; then
        if kill -0 "$REGISTRY_PID" 2>/dev/null; then
            SERVICE_SKIP_REASON="docker-registry did not answer on http://$REGISTRY/v2/ within 20 s: $(tail -1 "$REGISTRY_LOG")"
        else
            SERVICE_SKIP_REASON="docker-registry exited: $(tail -1 "$REGISTRY_LOG")"
        fi
        return 1
    fi
    echo "# docker-registry $(docker-registry --version 2>/dev/null | awk '{ print $3 }') on http://$REGISTRY, storage $dir/storage"
    return 0
}

# registry_push LAYOUT TAG REPO:TAG: `skopeo copy --preserve-digests` of the
# image LAYOUT:TAG to the test registry. --preserve-digests matters: without
# it containers/image may replace a layer by another compression of the same
# diff_id that its machine-wide blob-info cache (/var/lib/containers/cache)
# says the registry has — a zstd (or zstd:chunked) layer pushed after the
# gzip layer of the same tree became the gzip layer, with a rewritten
# manifest. With it, the push keeps every digest or fails.
registry_push() {
    skopeo --insecure-policy copy --quiet --preserve-digests --dest-tls-verify=false \
        "oci:$1:$2" "docker://$REGISTRY/$3"
}

# registry_log_mark: the access log's current line count, to count what a
# later pull fetched.
registry_log_mark() {
    grep -c '' "$REGISTRY_LOG"
}

# registry_blob_bytes_since MARK [REPO]: the response bytes of successful
# blob GETs (200 and 206, i.e. whole and ranged fetches) logged after line
# MARK, optionally only for repository REPO. Prints "BYTES REQUESTS".
registry_blob_bytes_since() {
    local mark=$1 repo=${2:-}
    tail -n +"$((mark + 1))" "$REGISTRY_LOG" | python3 -c '
import re, sys
repo = sys.argv[1]
line_re = re.compile(r"\"GET /v2/(.+)/blobs/sha256:[0-9a-f]{64} HTTP/[0-9.]+\" (200|206) ([0-9]+)")
total = count = 0
for line in sys.stdin:
    m = line_re.search(line)
    if m and (not repo or m.group(1) == repo):
        total += int(m.group(3))
        count += 1
print(total, count)
' "$repo"
}

# ---------------------------------------------------------------- podman

# start_private_podman [DRIVER]: podman with a store of its own in
# $TEST_TMP/podman-DRIVER: storage.conf (graphroot, runroot, DRIVER = vfs by
# default or overlay; [storage.options.pull_options] enable_partial_images
# off here, see podman_pull_partial), registries.conf (no search registries,
# 127.0.0.1 registries insecure), policy.json (accept anything: the images
# are the test's own). PODMAN=(podman ...) passes them all, so the machine's
# store is never read or written. Sets PODMAN_STORAGE_CONF.
start_private_podman() {
    services_init
    local driver=${1:-vfs} dir=$TEST_TMP/podman-${1:-vfs}
    mkdir -p "$dir/graph" "$dir/run" "$dir/tmp"
    PODMAN_DIR=$dir
    write_podman_storage_conf "$dir/storage.conf" "$driver" false
    cat >"$dir/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
    echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$dir/policy.json"
    PODMAN_STORAGE_CONF=$dir/storage.conf
    export CONTAINERS_STORAGE_CONF=$PODMAN_STORAGE_CONF
    export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
    PODMAN=(podman --root "$dir/graph" --runroot "$dir/run" --storage-driver "$driver"
            --cgroup-manager cgroupfs --events-backend none --tmpdir "$dir/tmp")
    PODMAN_PRIVATE=1
    PODMAN_POLICY=$dir/policy.json
    "${PODMAN[@]}" info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}' >"$dir/info.out" 2>"$dir/info.err" || {
        SERVICE_SKIP_REASON="podman info failed: $(tail -1 "$dir/info.err")"
        return 1
    }
    if [ "$(cat "$dir/info.out")" != "$dir/graph $driver" ]; then
        SERVICE_SKIP_REASON="podman does not use the private store: $(cat "$dir/info.out")"
        return 1
    fi
    return 0
}

# write_podman_storage_conf FILE DRIVER PARTIAL(true|false)
write_podman_storage_conf() {
    cat >"$1" <<EOF
[storage]
driver = "$2"
graphroot = "$PODMAN_DIR/graph"
runroot = "$PODMAN_DIR/run"

[storage.options]

[storage.options.pull_options]
enable_partial_images = "$3"
use_hard_links = "false"
ostree_repos = ""
EOF
}

# podman_pull REF: pull from the test registry (plain HTTP) into the private store.
podman_pull() {
    "${PODMAN[@]}" pull --tls-verify=false --signature-policy "$PODMAN_POLICY" "$1"
}

# podman_pull_partial REF: the hook for zstd:chunked partial pulls. Pulls REF
# with enable_partial_images = "true" in the private storage.conf (needs the
# overlay driver: containers/storage applies chunked layers only there),
# then switches it off again. Use registry_log_mark before and
# registry_blob_bytes_since after to count the bytes fetched; podman's
# debug log (PODMAN_PULL_LOG) says whether the chunked path was taken.
podman_pull_partial() {
    local driver
    driver=$(awk -F'"' '/^driver/ { print $2 }' "$PODMAN_STORAGE_CONF")
    write_podman_storage_conf "$PODMAN_STORAGE_CONF" "$driver" true
    PODMAN_PULL_LOG=$PODMAN_DIR/pull-partial.log
    "${PODMAN[@]}" --log-level debug pull --tls-verify=false --signature-policy "$PODMAN_POLICY" "$1" >"$PODMAN_PULL_LOG" 2>&1
    local rc=$?
    write_podman_storage_conf "$PODMAN_STORAGE_CONF" "$driver" false
    return $rc
}

# podman_partial_pull_outcome: what containers/image (5.23, podman 4.3) logged
# for the last podman_pull_partial: "partial: N blob(s)" when layers were
# retrieved through the chunked path ("Retrieved partial blob"), else
# "declined: REASON" with its first "Failed to retrieve partial blob" reason,
# else "no partial attempt logged" (partial pulls off, or a driver without them).
podman_partial_pull_outcome() {
    local got reason
    got=$(grep -c 'Retrieved partial blob' "$PODMAN_PULL_LOG")
    reason=$(grep -o 'Failed to retrieve partial blob: [^"]*' "$PODMAN_PULL_LOG" | head -1)
    if [ "$got" -gt 0 ]; then
        echo "partial: $got blob(s)"
    elif [ -n "$reason" ]; then
        echo "declined: ${reason#Failed to retrieve partial blob: }"
    else
        echo "no partial attempt logged"
    fi
}

# ---------------------------------------------------------------- WebDAV (nginx)

# start_webdav DIR: Debian's nginx as the current user on 127.0.0.1:<free
# port>, the HTTP store of `--cache-remote` (issue 15): GET, and PUT through
# the dav module (dav_methods PUT, create_full_put_path), root DIR/store.
# Everything nginx writes stays under DIR/nginx: config, pid, lock, error and
# access logs and every temp path (-p, -c, -e on the command line and
# error_log at the top of the config, so it never opens /var/log/nginx or
# /var/lib/nginx). Runs in the foreground (daemon off), so the recorded pid is
# the master's and the EXIT trap stops it. Locations with other behaviour
# over the same store, for the faults of a remote cache:
#   /slow/   the store at 10 bytes a second (limit_rate 10), for timeouts;
#   /err/    every request answered 500;
#   /moved/  every request answered 301 to the same path without /moved;
#   /ro/     a read-only mirror: GET and HEAD served, PUT answered 403;
#   /short/  a connection closed by the server after 2 requests
#            (keepalive_requests 2), files under store/short/.
# Calling it again (after stop_webdav) starts a new server on the same store.
# Sets WEBDAV_URL, WEBDAV_SLOW_URL, WEBDAV_STORE, WEBDAV_PID, WEBDAV_LOG
# (the access log: "METHOD URI STATUS BYTES CONNECTION USER" per request:
# nginx's serial number of the connection, and the user name of a Basic
# Authorization header, "-" without one).
start_webdav() {
    services_init
    local dir=$1 port conf user_line=""
    mkdir -p "$dir/store" "$dir/nginx/temp"
    dir=$(cd "$dir" && pwd)
    port=$(free_port) || { SERVICE_SKIP_REASON="no free port on 127.0.0.1"; return 1; }
    command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
    command -v nginx >/dev/null 2>&1 || { SERVICE_SKIP_REASON="nginx is not installed"; return 1; }
    # As root, nginx would run its workers as nobody, who cannot write the store.
    [ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
    conf=$dir/nginx/nginx.conf
    WEBDAV_LOG=$dir/nginx/access.log
    cat >"$conf" <<NGINX
error_log $dir/nginx/error.log warn;
pid $dir/nginx/nginx.pid;
lock_file $dir/nginx/nginx.lock;
daemon off;
worker_processes 1;
$user_line
events { worker_connections 64; }
http {
    log_format store '\$request_method \$uri \$status \$body_bytes_sent \$connection \$remote_user';
    access_log $WEBDAV_LOG store;
    client_body_temp_path $dir/nginx/temp/body;
    proxy_temp_path $dir/nginx/temp/proxy;
    fastcgi_temp_path $dir/nginx/temp/fastcgi;
    uwsgi_temp_path $dir/nginx/temp/uwsgi;
    scgi_temp_path $dir/nginx/temp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $dir/store;
        dav_methods PUT;
        create_full_put_path on;
        dav_access user:rw group:r all:r;
        client_max_body_size 300m;
        log_not_found off;
        location /slow/ {
            alias $dir/store/;
            limit_rate 10;
        }
        location /err/ {
            return 500;
        }
        location /moved/ {
            rewrite ^/moved(/.*)\$ \$1 permanent;
        }
        location /ro/ {
            alias $dir/store/;
            limit_except GET HEAD { deny all; }
        }
        location /short/ {
            keepalive_requests 2;
        }
    }
}
NGINX
    echo ready >"$dir/store/.ready"
    nginx -p "$dir/nginx" -c "$conf" -e "$dir/nginx/error.log" >"$dir/nginx/stdout.log" 2>&1 &
    WEBDAV_PID=$!
    service_started nginx "$WEBDAV_PID"
    WEBDAV_URL=http://127.0.0.1:$port
    WEBDAV_SLOW_URL=$WEBDAV_URL/slow
    WEBDAV_STORE=$dir/store
    if ! wait_for_service "$WEBDAV_PID" 20 python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/.ready", timeout=2)' "$WEBDAV_URL"; then
        if kill -0 "$WEBDAV_PID" 2>/dev/null; then
            SERVICE_SKIP_REASON="nginx did not answer on $WEBDAV_URL within 20 s: $(tail -1 "$dir/nginx/error.log")"
        else
            SERVICE_SKIP_REASON="nginx exited: $(cat "$dir/nginx/stdout.log" "$dir/nginx/error.log" 2>/dev/null | tail -1)"
        fi
        return 1
    fi
    rm -f "$dir/store/.ready"
    echo "# nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') WebDAV on $WEBDAV_URL, store $WEBDAV_STORE"
    return 0
}

# stop_webdav: stops the nginx of start_webdav (its URL then refuses connections).
stop_webdav() {
    [ -n "${WEBDAV_PID:-}" ] && stop_pid "$WEBDAV_PID"
    return 0
}
