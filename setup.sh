#!/bin/sh
# setup.sh: install the Debian 12 packages kvmload needs (QEMU included), then configure and build it in build/.
set -eu
cd "$(dirname "$0")"

PKGS="build-essential pkg-config meson ninja-build binutils
liblz4-dev libzstd-dev zlib1g-dev libssl-dev zfs-fuse
libfuse3-dev fuse3 libblkid-dev libudev-dev libinih-dev
makefs gdisk util-linux udev xz-utils attr clang lld
qemu-system-x86 qemu-system-data qemu-utils python3"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PKGS

# The unprivileged user kvmload-fs, the image exporter and QEMU run as (udev/kvmload.sysusers).
$SUDO systemd-sysusers "$PWD/udev/kvmload.sysusers" 2>/dev/null ||
	getent passwd kvmload >/dev/null ||
	$SUDO useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group kvmload

if [ -d build ]; then
	meson setup --reconfigure build
else
	meson setup build
fi
ninja -C build
