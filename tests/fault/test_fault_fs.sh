#!/bin/bash
# test_fault_fs.sh: kvmload-fs on a disk whose reads fail (faultfs): EIO for the affected files, the rest still served, a clean unmount; an unreadable partition table ends with status 74.
# usage: test_fault_fs.sh KVMLOAD_FS FAULTFS
. "$(dirname "$0")/../lib.sh"
FS=$1 FAULTFS=$2
need_root
need_fuse
need_tools makefs sgdisk fusermount3 timeout
T=$(mktemp -d /tmp/kvmload-fault-fs.XXXXXX)
FFS=$T/ffs MNT=$T/mnt FPID= DPID=
scratch_dir "$T"
on_exit 'for p in $DPID $FPID; do kill "$p" 2> /dev/null; done'
on_exit 'for m in "$MNT" "$FFS"; do grep -q " $m fuse" /proc/mounts && fusermount3 -u -z "$m"; done'

# A GPT disk: p1 UFS2 with a kernel whose blocks are easy to find, p2 UFS1.
S=$T/src
mkdir -p "$S/boot/kernel" "$S/etc" "$FFS" "$MNT"
yes KERNEL-BLOCK | head -c 200000 > "$S/boot/kernel/kernel"
echo 'hello from the guest' > "$S/etc/motd"
printf 'kernel="kernel"\n' > "$S/boot/loader.conf"
makefs -t ffs -o version=2 -s 4m "$T/p1.img" "$S" > /dev/null
makefs -t ffs -o version=1 -s 4m "$T/p2.img" "$S" > /dev/null
truncate -s 10m "$T/disk.img"
sgdisk -a 1 -n 1:2048:10239 -t 1:a503 -n 2:10240:18431 -t 2:a503 "$T/disk.img" > /dev/null
dd if="$T/p1.img" of="$T/disk.img" bs=512 seek=2048 conv=notrunc status=none
dd if="$T/p2.img" of="$T/disk.img" bs=512 seek=10240 conv=notrunc status=none
P1=$((2048 * 512))
KOFF=$(LC_ALL=C grep -obUa KERNEL-BLOCK "$T/disk.img" | head -n 1 | cut -d: -f1)

faults() { # faults RANGE...: serve disk.img at $FFS/disk.img with reads touching a RANGE failing
	"$FAULTFS" "$T/disk.img" "$FFS" "$@" 2> "$T/faultfs.err" &
	FPID=$!
	for _ in $(seq 100); do [ -f "$FFS/disk.img" ] && return; sleep 0.1; done
	echo "faultfs did not come up: $(cat "$T/faultfs.err")" >&2
	exit 1
}
unfault() {
	fusermount3 -u "$FFS"; wait "$FPID"; FPID=
}
mount_view() { # the daemon in the foreground; returns once it answers
	rm -f "$T/ready"; mkfifo "$T/ready"
	"$FS" -f --ready-fd 3 --disk "$FFS/disk.img" "$MNT" 3> "$T/ready" 2> "$T/daemon.err" &
	DPID=$!
	read -r -n 1 -t 30 < "$T/ready" || bad "kvmload-fs did not come up: $(cat "$T/daemon.err")"
}
unmount_view() { # clean unmount, status 0, nothing left
	fusermount3 -u "$MNT"; check "$1: fusermount3 -u" 0 $?
	wait "$DPID"; check "$1: kvmload-fs exit status" 0 $?
	DPID=
	check "$1: no mount left" "" "$(awk -v m="$MNT" '$2 == m' /proc/mounts)"
}
errmsg() { "$@" 2>&1 > /dev/null | sed 's/.*: //'; }

# ---- the kernel's first block fails: that file reads EIO, its other blocks, other files and p2 still read
faults "$KOFF:4096"
mount_view
check "kernel: EIO" "Input/output error" "$(errmsg timeout 30 cat "$MNT/disk0p1/boot/kernel/kernel")"
check "kernel: size still shown" 200000 "$(stat -c %s "$MNT/disk0p1/boot/kernel/kernel")"
check "kernel: last 1000 bytes" "$(tail -c 1000 "$S/boot/kernel/kernel" | md5sum)" \
	"$(timeout 30 tail -c 1000 "$MNT/disk0p1/boot/kernel/kernel" | md5sum)"
check "kernel: other files" "hello from the guest" "$(timeout 30 cat "$MNT/disk0p1/etc/motd")"
check "kernel: other partition" "$(md5sum < "$S/boot/kernel/kernel")" \
	"$(timeout 30 cat "$MNT/disk0p2/boot/kernel/kernel" | md5sum)"
check "kernel: EIO again (nothing cached)" "Input/output error" "$(errmsg timeout 30 cat "$MNT/disk0p1/boot/kernel/kernel")"
kill -0 "$DPID" 2> /dev/null; check "kernel: daemon alive" 0 $?
unmount_view kernel
case $(cat "$T/daemon.err") in *"ufs: device read of "*"Input/output error"*) ok ;;
	*) bad "kernel: no log line for the failed read: $(cat "$T/daemon.err")" ;; esac
unfault

# ---- p1's superblock fails: p1 is not shown, p2 is
faults $((P1 + 65536)):8192
mount_view
check "superblock: top level" "by-label disk0p2" "$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
check "superblock: p2 reads" "hello from the guest" "$(timeout 30 cat "$MNT/disk0p2/etc/motd")"
unmount_view superblock
case $(cat "$T/daemon.err") in *"disk0p1: UFS not shown: Input/output error"*) ok ;;
	*) bad "superblock: no log line naming disk0p1: $(cat "$T/daemon.err")" ;; esac
unfault

# ---- the GPT header fails (where the image format is read too): status 74 (EX_IOERR), nothing mounted
faults 512:512
timeout 30 "$FS" -f --disk "$FFS/disk.img" "$MNT" 2> "$T/daemon.err"
check "header: exit status" 74 $?
check "header: message" "kvmload-fs: $FFS/disk.img: reading its first bytes: Input/output error" \
	"$(tail -n 1 "$T/daemon.err")"
check "header: no mount" "" "$(awk -v m="$MNT" '$2 == m' /proc/mounts)"
unfault
# ---- the GPT entries fail: no partitions can be trusted, status 74 (EX_IOERR), nothing mounted
faults 1024:512
timeout 30 "$FS" -f --disk "$FFS/disk.img" "$MNT" 2> "$T/daemon.err"
check "table: exit status" 74 $?
check "table: message" "kvmload-fs: $FFS/disk.img: cannot read its partitions: Input/output error" \
	"$(tail -n 1 "$T/daemon.err")"
check "table: no mount" "" "$(awk -v m="$MNT" '$2 == m' /proc/mounts)"
timeout 30 "$FS" --list --disk "$FFS/disk.img" > /dev/null 2>&1
check "table: --list exit status" 74 $?
unfault
check "faultfs unmounted" "" "$(awk -v m="$FFS" '$2 == m' /proc/mounts)"
lib_done
