# lib.sh: helpers for the udev suite (sourced): root and tool checks, loop devices we own, results.
set -u

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*" >&2; FAILED=$((FAILED + 1)); }
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
# check WHAT EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then pass; else fail "$1: expected '$2', got '$3'"; fi
}

need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
}
need_tools() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
	done
}

WORK=$(mktemp -d /tmp/kvmload-udev.XXXXXX)
LOOPS=
CLEANUPS=
# on_exit CMD: run CMD (in reverse order of registration) when the test ends.
on_exit() { CLEANUPS="$1
$CLEANUPS"; }
lib_cleanup() {
	set +e
	# In this shell, not a pipeline's subshell: a cleanup's wait needs its own children.
	while IFS= read -r c; do [ -n "$c" ] && eval "$c"; done <<<"$CLEANUPS"
	for l in $LOOPS; do loop_detach "$l"; done
	rm -rf "$WORK"
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

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
