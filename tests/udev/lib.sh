# lib.sh: the udev suite's helpers (sourced): loop devices we own, GPT images, the rules under
# udevadm test; counting, skips and clean-up are tests/lib.sh's.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

WORK=$(mktemp -d /tmp/kvmload-udev.XXXXXX)
LOOPS=
# Run after the test's own clean-ups (on_exit runs the last registered first).  The devices
# attached here: those in LOOPS, and those loop_attach listed in $WORK/loops (it runs in a
# command substitution, whose LOOPS is lost).
on_exit 'rm -rf "$WORK"'
on_exit 'for l in $LOOPS $(cat "$WORK/loops" 2>/dev/null); do loop_detach "$l"; done'

# loop_attach IMG: attach IMG to a free loop device, add its partitions (this kernel parses
# none itself), print the device.  Only devices attached here are ever detached.
loop_attach() {
	local dev
	dev=$(losetup -f --show "$1") || return 1
	LOOPS="$LOOPS $dev"
	echo "$dev" >>"$WORK/loops"
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
	[ ! -e "$WORK/loops" ] || sed -i "\\|^$1\$|d" "$WORK/loops"
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

# udev_test DISK ACTION...: the rules file $RULES under udevadm test: per action, on DISK then
# each of its partitions; prints "ACTION NAME SYSTEMD_WANTS" lines, and leaves udevadm's output
# for NAME in $WORK/out.NAME.  The database made by one action serves the next.
# Hermetic: a private mount namespace with its own /dev and /run/udev, so udevadm test creates
# no links or database entries on the host.  The rules file is read from /run/udev/rules.d,
# a standard rules directory, after the distribution's 60-persistent-storage.rules.
udev_test() {
	unshare -m --propagation private /bin/sh -s "$RULES" "$WORK" "$(basename "$1")" "${@:2}" <<'SH'
set -e
rules=$1 work=$2 disk=$3
shift 3
mount -t tmpfs kvmload-test /dev
mknod /dev/null c 1 3
mkdir -p /run/udev 2>/dev/null || mount -t tmpfs kvmload-test /run
mount -t tmpfs kvmload-test /run/udev
mkdir /run/udev/rules.d
cp "$rules" /run/udev/rules.d/
for b in /sys/class/block/$disk /sys/class/block/${disk}p*; do
	[ -e "$b" ] || continue
	IFS=: read -r ma mi <"$b/dev"
	mknod "/dev/$(basename "$b")" b "$ma" "$mi"
done
for action in "$@"; do
	for b in /sys/class/block/$disk /sys/class/block/${disk}p*; do
		[ -e "$b" ] || continue
		n=$(basename "$b")
		udevadm test --action="$action" "$b" >"$work/out.$n" 2>"$work/err.$action.$n"
		echo "$action $n $(grep '^SYSTEMD_WANTS=' "$work/out.$n" | cut -d= -f2-)"
	done
done
SH
}
# /run/udev may not exist on the host: creating it inside the namespace would leave it behind.
udev_test_prepare() {
	[ -d /run/udev ] || { mkdir /run/udev && on_exit "rmdir /run/udev"; }
}
