# lib.sh: the udev suite's helpers (sourced): loop devices we own, GPT images, the rules under
# udevadm test, a real systemd-udevd of the test's own and devices attached under it; counting,
# skips and clean-up are tests/lib.sh's.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

WORK=$(mktemp -d /tmp/kvmload-udev.XXXXXX)
LOOPS=
# Run after the test's own clean-ups (on_exit runs the last registered first).  The devices
# attached here: those in LOOPS, and those loop_attach listed in $WORK/loops (it runs in a
# command substitution, whose LOOPS is lost).
scratch_dir "$WORK"
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

# wait_for SECONDS CMD...: poll until CMD succeeds; false if it never does.
wait_for() {
	local n=$(($1 * 10)); shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
# has_text FILE TEXT: TEXT in FILE (console lines end in CRLF).
has_text() { tr -d '\r' <"$1" | grep -qF -- "$2"; }
# expect WHAT CMD...: one check, passed when CMD succeeds.
expect() {
	local what=$1; shift
	if "$@"; then ok; else bad "$what"; fi
}

# need_udevd: skip unless this test can run its own systemd-udevd: another one (the host's, or
# another test's) would see our devices with rules we do not control.
UDEVD=/lib/systemd/systemd-udevd
need_udevd() {
	[ -x "$UDEVD" ] || skip "no $UDEVD"
	if udevadm control --ping 2>/dev/null; then skip "a systemd-udevd runs already"; fi
}

# udevd_start RULES: a real systemd-udevd with RULES as 70-kvmload.rules, in the foreground,
# stopped by its pid at exit; its log in $WORK/udevd.log.
udevd_start() {
	local d
	for d in /run/udev /run/udev/rules.d /dev/disk /dev/block /dev/char; do
		[ -e "$d" ] || on_exit "rm -rf $d"
	done
	# udevd applies the distribution's OWNER/GROUP/MODE rules to every device with an event
	# (kvm, loop): put the nodes of /dev back as they were.
	find /dev -maxdepth 1 \( -type b -o -type c \) -printf '%m %U %G %p\n' >"$WORK/dev-modes"
	on_exit 'while read -r m u g p; do [ -e "$p" ] && chown "$u:$g" "$p" && chmod "$m" "$p"; done <"$WORK/dev-modes"'
	mkdir -p /run/udev/rules.d
	cp "$1" /run/udev/rules.d/70-kvmload.rules
	on_exit "rm -f /run/udev/rules.d/70-kvmload.rules"
	"$UDEVD" --debug >"$WORK/udevd.log" 2>&1 &
	UDEVD_PID=$!
	on_exit "kill $UDEVD_PID; wait $UDEVD_PID"
	wait_for 30 udevadm control --ping || { echo "systemd-udevd did not start" >&2; exit 1; }
}

# attach IMG: loop device (read-only: nothing ever writes the guest) with its partitions,
# and wait until udevd has processed them.  losetup's read-write open of the loop node makes
# udevd (OPTIONS+="watch") re-read the partition table, which on this kernel (no partition
# parsers) drops what partx added: let that happen first, and add again if it still did.
attach() {
	local dev try
	dev=$(losetup -r -f --show "$1") || return 1
	LOOPS="$LOOPS $dev"
	echo "$dev" >>"$WORK/loops"
	udevadm settle -t 30
	for try in 1 2 3 4 5; do
		partx -a "$dev" 2>/dev/null
		udevadm settle -t 30
		[ -e "/sys/class/block/$(basename "$dev")/$(basename "$dev")p2" ] && break
	done
	echo "$dev"
}
detach() {
	loop_detach "$1"
	udevadm settle -t 30
}

# udev_accel: ACCEL, the accelerator the guests run on: QEMU with KVM where /dev/kvm is usable (so
# the default stays tested where it can run), else QEMU's emulator; says which.
udev_accel() {
	if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && { : <>/dev/kvm; } 2>/dev/null; then
		ACCEL=kvm
	else
		ACCEL=tcg
	fi
	echo "accel: $ACCEL"
}

# guest_copies DEMO NAME...: $WORK/NAME.img, a copy of the demo image with new GUIDs each (no
# other copy on this machine names our VMs).
guest_copies() {
	local demo=$1 vm; shift
	for vm in "$@"; do
		cp "$demo" "$WORK/$vm.img"
		sgdisk -G "$WORK/$vm.img" >/dev/null
	done
}
# uuid IMG: the unique GUID of IMG's second partition, what part-uuid = names.
uuid() { sgdisk -i 2 "$1" | sed -n 's/^Partition unique GUID: //p'; }
# crc8 IMG: the CRC-32 of IMG's first 8 sectors, as the test kernel's testkernel.blksum=8 prints it.
crc8() { python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read(8 * 512)))' "$1"; }
