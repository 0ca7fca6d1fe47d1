#!/bin/sh
# mkdemo.sh: build the demo guest disk: GPT, p1 freebsd-boot, p2 freebsd-ufs (UFS2) holding a lua-flavoured /boot.
# usage: mkdemo.sh OUT.img KERNEL USERBOOT_4TH USERBOOT_LUA
set -eu
out=$1 kernel=$2 ub4th=$3 ublua=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

root=$work/root
mkdir -p "$root/boot/kernel" "$root/boot/defaults" "$root/etc"
cp "$kernel" "$root/boot/kernel/kernel"
# The guest's own loader carries the "$Interpreter:lua" marker, so a 4th
# plugin on the host must hand over to the lua one.
cp "$ublua" "$root/boot/loader"
cp "$ub4th" "$root/boot/userboot_4th.so"
cp "$ublua" "$root/boot/userboot_lua.so"
printf 'demo module\n' >"$root/boot/kernel/demo.ko"
cat >"$root/boot/defaults/loader.conf" <<'CONF'
# defaults of the demo guest
kernel="kernel"
bootfile="kernel"
module_path="/boot/kernel"
CONF
cat >"$root/boot/loader.conf" <<'CONF'
# the demo guest's loader.conf
demo_load="YES"
demo.greeting="hello from the demo guest"
CONF
echo "demo" >"$root/etc/hostname"

makefs -t ffs -o version=2 -s 32m "$work/ufs.img" "$root" >/dev/null
truncate -s 40m "$work/disk.img"
sgdisk -o -n 1:2048:+512K -t 1:a501 -c 1:demo-boot -n 2:4096:+32M -t 2:a503 -c 2:demo-root \
	"$work/disk.img" >/dev/null
dd if="$work/ufs.img" of="$work/disk.img" bs=512 seek=4096 conv=notrunc status=none
mv "$work/disk.img" "$out"
