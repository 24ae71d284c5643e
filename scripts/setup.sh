#!/usr/bin/env bash
# Installs everything ocipack needs on Debian 12 (bookworm): the compiler and
# CMake, the libraries it links, and the consumers its integration tests
# drive (umoci, skopeo, oci-image-tool, runc, podman, containerd, docker-registry,
# nginx, pigz, GNU tar/gzip, bsdtar).
# Idempotent; skips apt when every package is already installed.
# Usage: scripts/setup.sh [--bench]   (--bench adds the benchmark anchors' tools)
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  libtbb-dev libdeflate-dev libisal-dev libssl-dev nlohmann-json3-dev libcli11-dev
  libsimdjson-dev libarchive-dev zlib1g-dev libzstd-dev libgtest-dev libbenchmark-dev
  libcurl4-openssl-dev
  # consumers and tools the tests drive
  umoci skopeo oci-image-tool runc podman pigz gzip tar libarchive-tools busybox-static
  jq attr python3 libdeflate-tools bzip2 xz-utils zstd fakeroot
  # the installed man pages and completions (test_docs_install.sh reads them with man, checks zsh syntax)
  man-db zsh
  # the terminal tests drive ocipack in a private tmux server and record TERM=dumb with script(1)
  tmux bsdutils
  # the zstd:chunked checker (tests/tools/zstd_chunked_check), built offline from Debian's Go tree
  golang-go golang-github-containers-storage-dev golang-github-vbatts-tar-split-dev
  golang-github-klauspost-compress-dev golang-github-ulikunitz-xz-dev
  # daemons the tests start privately (unix socket / 127.0.0.1 in a temp dir), ss to check that;
  # nginx-light (bookworm: nginx with the dav module) is the chunk cache's remote in the tests
  containerd docker-registry iproute2 nginx-light
  # fuzzing (libFuzzer comes with clang's runtime)
  clang libclang-rt-14-dev
  # the real-rootfs acceptance test builds a Debian minbase rootfs once (cached)
  mmdebstrap
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(mmdebstrap hyperfine gnuplot-nox time linux-perf bc openssl)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The tests start their own containerd and registry on a socket / 127.0.0.1
  # in a temp dir; on a machine booted with systemd the packages would also
  # start system services (docker-registry on :5000 of every interface, nginx
  # on :80), so those just installed here are stopped and disabled again.
  if [[ -d /run/systemd/system ]]; then
    for package_service in containerd:containerd docker-registry:docker-registry nginx-light:nginx; do
      if [[ " ${missing[*]} " == *" ${package_service%%:*} "* ]]; then
        $SUDO systemctl disable --now "${package_service#*:}" >/dev/null 2>&1 || true
      fi
    done
  fi
fi
echo "setup: all dependencies present" >&2
