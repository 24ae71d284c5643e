#!/usr/bin/env bash
# The one command that shows ocipack working on a fresh Debian machine:
# installs dependencies, builds, makes a small busybox rootfs, packs it into
# an OCI layout, shows what was written, then reads it back with skopeo and
# umoci the way users consume images.
# Usage: scripts/demo.sh [WORKDIR]   (default: /tmp/ocipack-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
work="${1:-/tmp/ocipack-demo}"
rm -rf "$work"
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in sh echo ls cat uname; do ln -s busybox "$work/rootfs/bin/$applet"; done
echo "ocipack-demo" > "$work/rootfs/etc/hostname"

set -x
./build/ocipack build "$work/rootfs" -o "$work/layout" --tag demo \
  --cmd "/bin/sh -c 'echo hello from an ocipack image'" --env PATH=/bin \
  --label org.opencontainers.image.title=ocipack-demo --tar-output "$work/demo-oci.tar"
find "$work/layout" -type f | sort
skopeo inspect --config "oci:$work/layout:demo" | jq '{architecture, os, config, rootfs}'
umoci unpack --image "$work/layout:demo" "$work/bundle" >/dev/null
ls -l "$work/bundle/rootfs/bin"
set +x
echo "demo: layout at $work/layout (tag demo), tarball $work/demo-oci.tar"
