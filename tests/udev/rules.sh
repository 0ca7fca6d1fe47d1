#!/bin/bash
# rules.sh: 70-kvmload.rules under udevadm test: FreeBSD partitions and a bare UFS disk pull in
# kvmload@<kernel name>.service, a Linux disk gets nothing, and udev reports no rule problems.
# usage: rules.sh BUILT-RULES-FILE
. "$(dirname "$0")/lib.sh"
RULES=$1
need_root
need_tools udevadm losetup partx sgdisk makefs unshare
mkdir -p "$WORK/tree/boot"
echo kernel >"$WORK/tree/boot/kernel"

make_gpt "$WORK/fbsd.img" a503 "$WORK/tree"
make_gpt "$WORK/linux.img" 8300
makefs -t ffs -o version=2 -s 8m "$WORK/bare.img" "$WORK/tree" >/dev/null

# Hermetic: a private mount namespace with its own /dev and /run/udev, so udevadm test creates
# no links or database entries on the host.  The rules file is read from /run/udev/rules.d,
# a standard rules directory, after the distribution's 60-persistent-storage.rules.
# udev_test DISK ACTION...: per action, udevadm test on DISK then each of its partitions;
# prints "ACTION NAME SYSTEMD_WANTS" lines.  The database made by one action serves the next.
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
[ -d /run/udev ] || { mkdir /run/udev && on_exit "rmdir /run/udev"; }

F=$(loop_attach "$WORK/fbsd.img") || exit 1
K=$(basename "$F")
# A remove event carries the device's last properties from the database: the same unit, once.
got=$(udev_test "$F" add remove)
check "GPT freebsd-boot + freebsd-ufs, add then remove" "add $K 
add ${K}p1 kvmload@${K}p1.service
add ${K}p2 kvmload@${K}p2.service
remove $K 
remove ${K}p1 kvmload@${K}p1.service
remove ${K}p2 kvmload@${K}p2.service" "$got"
check "freebsd-ufs partition is tagged for systemd" ":systemd:" \
	"$(grep '^TAGS=' "$WORK/out.${K}p2" | cut -d= -f2-)"
check "UFS properties seen by the rule" "ufs 516e7cb6-6ecf-11d6-8ff8-00022d09712b" \
	"$(grep -E '^ID_FS_TYPE=' "$WORK/out.${K}p2" | cut -d= -f2) $(grep -E '^ID_PART_ENTRY_TYPE=' "$WORK/out.${K}p2" | cut -d= -f2)"
# Syntax problems only show on stderr (udevadm 252 has no "verify"): none may name our file.
problems=$(cat "$WORK"/err.* | grep -F '70-kvmload.rules' | grep -vF 'Reading rules file')
check "udev reports no problem in the rules" "" "$problems"
if udevadm verify --help >/dev/null 2>&1; then
	if udevadm verify --resolve-names=never "$RULES" >"$WORK/verify" 2>&1; then ok; else
		bad "udevadm verify: $(cat "$WORK/verify")"; fi
fi
loop_detach "$F"

L=$(loop_attach "$WORK/linux.img") || exit 1
K=$(basename "$L")
got=$(udev_test "$L" add)
check "GPT freebsd-boot + Linux filesystem: only the FreeBSD partition" "add $K 
add ${K}p1 kvmload@${K}p1.service
add ${K}p2 " "$got"
loop_detach "$L"

# A loop disk sends "change", never "add", when an image is attached.
B=$(loop_attach "$WORK/bare.img") || exit 1
K=$(basename "$B")
got=$(udev_test "$B" change)
check "bare UFS disk (change)" "change $K kvmload@$K.service" "$got"
loop_detach "$B"
lib_done
