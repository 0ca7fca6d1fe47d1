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
udev_test_prepare

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
