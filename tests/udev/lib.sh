# lib.sh: the udev suite's helpers (sourced): loop devices we own, GPT images; counting, skips
# and clean-up are tests/lib.sh's.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

WORK=$(mktemp -d /tmp/kvmload-udev.XXXXXX)
LOOPS=
# Run after the test's own clean-ups (on_exit runs the last registered first).
on_exit 'rm -rf "$WORK"'
on_exit 'for l in $LOOPS; do loop_detach "$l"; done'

# loop_attach IMG: attach IMG to a free loop device, add its partitions (this kernel parses
# none itself), print the device.  Only devices attached here are ever detached.
loop_attach() {
	local dev
	dev=$(losetup -f --show "$1") || return 1
	LOOPS="$LOOPS $dev"
	partx -a "$dev" 2>/dev/null
	echo "$dev"
}
# loop_detach DEV: the unplug: drop its partitions (remove events even while the disk is held
# open), then the device.  A partition udevd is probing is busy for a moment: try again.
loop_detach() {
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		partx -d "$1" 2>/dev/null
		ls /sys/class/block/"$(basename "$1")"/ | grep -q "^$(basename "$1")p" || break
		sleep 0.2
	done
	losetup -d "$1" 2>/dev/null
	LOOPS=$(echo " $LOOPS " | sed "s| $1 | |")
}

# make_gpt IMG TYPE [UFS-TREE]: 64 MiB GPT disk, p1 freebsd-boot, p2 of TYPE (sgdisk code)
# holding a UFS2 of UFS-TREE when given.
make_gpt() {
	truncate -s 64M "$1"
	sgdisk -o -n 1:2048:+512K -t 1:a501 -n 2:4096:+40M -t 2:"$2" -c 2:rootfs "$1" >/dev/null ||
		{ echo "sgdisk failed on $1" >&2; exit 1; }
	if [ $# -ge 3 ]; then
		makefs -t ffs -o version=2 -s 40m "$1.ufs" "$3" >/dev/null || exit 1
		dd if="$1.ufs" of="$1" bs=512 seek=4096 conv=notrunc status=none
		rm -f "$1.ufs"
	fi
}
