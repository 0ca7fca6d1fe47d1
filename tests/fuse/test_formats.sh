#!/bin/bash
# test_formats.sh: kvmload-fs on disk images in QEMU's formats (qcow2 plain, compressed and with backing files, vmdk, vpc, vhdx) shows the files the raw disk shows; bad disks and formats refused by name.
# usage: test_formats.sh KVMLOAD_FS
. "$(dirname "$0")/../lib.sh"
FS=$(realpath "$1")

need_root
need_fuse
need_tools makefs qemu-img qemu-storage-daemon fusermount3 sha256sum python3

T=$(mktemp -d /tmp/kvmload-formats.XXXXXX)
MNT=$T/mnt LOOP=
mkdir -p "$MNT"
scratch_dir "$T"
on_exit '[ -n "$LOOP" ] && losetup -d "$LOOP"'
on_exit 'grep -q " $MNT fuse" /proc/mounts && fusermount3 -u -z "$MNT"'
# Exporters are the daemon's; none may outlive a view.  Ours carry this test's mark in their
# environment (other tests on this machine run exporters too).
export KVMLOAD_FORMATS_TEST=$T

# ---- one UFS2 file system on a bare disk, the raw image every format is made from
S=$T/src
mkdir -p "$S/boot/kernel" "$S/etc" "$S/many"
echo 'hello from the guest' >"$S/etc/motd"
head -c 300000 /dev/urandom >"$S/boot/kernel/kernel"
for i in $(seq 200); do head -c $((i * 37)) /dev/urandom >"$S/many/f$i"; done
makefs -t ffs -o version=2 -s 16m "$T/raw.img" "$S" >/dev/null || exit 1
want=$(cd "$S" && find . -type f | sort | xargs sha256sum)

# shows IMAGE [kvmload-fs options...]: the view of IMAGE holds exactly the source's files
shows() {
	local img=$1 got; shift
	if ! "$FS" "$@" --disk "$img" "$MNT" 2>"$T/err"; then
		bad "$img: kvmload-fs failed: $(cat "$T/err")"; return
	fi
	got=$(cd "$MNT/disk0" && find . -type f | sort | xargs sha256sum)
	[ "$got" = "$want" ] && ok || bad "$img: the view's files differ from the raw disk's"
	fusermount3 -u "$MNT" || bad "$img: unmount"
}
# empty IMAGE [options...]: mounted, but no file system is shown for it
empty() {
	local img=$1; shift
	"$FS" "$@" --disk "$img" "$MNT" 2>"$T/err" || { bad "$img: kvmload-fs failed: $(cat "$T/err")"; return; }
	[ "$(ls "$MNT")" = by-label ] && ok || bad "$img $*: the view shows $(ls "$MNT" | tr '\n' ' ')"
	fusermount3 -u "$MNT" || bad "$img: unmount"
}
# refused STATUS TEXT kvmload-fs-args...: exits STATUS before mounting, stderr has TEXT
refused() {
	local want_st=$1 text=$2 st; shift 2
	timeout 20 "$FS" "$@" "$MNT" 2>"$T/err"; st=$?
	[ $st -eq "$want_st" ] && ok || bad "$*: status $st, expected $want_st ($(cat "$T/err"))"
	grep -qF -- "$text" "$T/err" && ok || bad "$*: no '$text' in: $(cat "$T/err")"
	grep -q " $MNT fuse" /proc/mounts && { bad "$*: mounted"; fusermount3 -u -z "$MNT"; }
}

shows "$T/raw.img"
qemu-img convert -O qcow2 "$T/raw.img" "$T/plain.qcow2" && shows "$T/plain.qcow2"
qemu-img convert -c -O qcow2 "$T/raw.img" "$T/comp.qcow2" && shows "$T/comp.qcow2"
qemu-img convert -O vmdk "$T/raw.img" "$T/d.vmdk" && shows "$T/d.vmdk"
qemu-img convert -O vmdk -o subformat=streamOptimized "$T/raw.img" "$T/s.vmdk" && shows "$T/s.vmdk"
qemu-img convert -O vpc "$T/raw.img" "$T/d.vhd" && shows "$T/d.vhd"
qemu-img convert -O vhdx "$T/raw.img" "$T/d.vhdx" && shows "$T/d.vhdx"

# A chain: base (qcow2) <- mid (qcow2, relative name, another directory) <- top; the overlay's
# own name is resolved beside it, wherever kvmload-fs runs from.
mkdir -p "$T/base" "$T/over"
cp "$T/plain.qcow2" "$T/base/base.qcow2"
qemu-img create -q -f qcow2 -b ../base/base.qcow2 -F qcow2 "$T/over/mid.qcow2"
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 "$T/over/top.qcow2"
(cd / && shows "$T/over/top.qcow2")
# --disk-fd N:PATH: the chain from the descriptor, backing files found beside PATH.
exec 6<"$T/over/top.qcow2"
if (cd / && "$FS" --disk-fd "6:$T/over/top.qcow2" "$MNT" 2>"$T/err"); then
	[ "$(cd "$MNT/disk0" && find . -type f | sort | xargs sha256sum)" = "$want" ] && ok ||
		bad "--disk-fd: the view's files differ from the raw disk's"
	fusermount3 -u "$MNT"
else bad "--disk-fd: kvmload-fs failed: $(cat "$T/err")"; fi
exec 6<&-
# A raw backing file under a qcow2 overlay.
qemu-img create -q -f qcow2 -b "$T/raw.img" -F raw "$T/over/onraw.qcow2" && shows "$T/over/onraw.qcow2"

# --format raw reads an image as the bytes it is: no file system there.
empty "$T/plain.qcow2" --format raw
refused 64 "--format nosuch: not an image format" --format nosuch --disk "$T/raw.img"
# A block device is raw: a qcow2 image on a loop device shows nothing until --format says so.
# The exporter reads it as the unprivileged user, through the device's group (Debian's udev
# gives disks to group disk, 0660); a device only root may read it cannot.
LOOP=$(losetup -f --show -r "$T/plain.qcow2") || exit 1
empty "$LOOP"
chmod 600 "$LOOP"
refused 65 "QEMU cannot read it as qcow2: Could not open '/proc/self/fd/3': Permission denied (qemu-storage-daemon runs as kvmload" --format qcow2 --disk "$LOOP"
chgrp disk "$LOOP" && chmod 660 "$LOOP"
shows "$LOOP" --format qcow2
losetup -d "$LOOP"; LOOP=

# ---- what is not a disk, refused by name (a FIFO must not hang the open)
mkfifo "$T/fifo"
refused 64 "a FIFO, not a regular file or block device" --disk "$T/fifo"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/sock"
refused 64 "a socket, not a regular file or block device" --disk "$T/sock"
refused 64 "a character device, not a regular file or block device" --disk /dev/null
refused 64 "a directory, not a regular file or block device" --disk "$T"

# ---- images kvmload does not take, each named
qemu-img create -q -u -f qcow2 -b "$T/nosuch.img" -F raw "$T/over/lost.qcow2" 16M
refused 66 "backing file $T/nosuch.img: No such file or directory" --disk "$T/over/lost.qcow2"
qemu-img create -q -u -f qcow2 -b 'json:{"file.filename":"'"$T"'/raw.img"}' -F raw "$T/over/json.qcow2" 16M
refused 65 "names a protocol, not a file" --disk "$T/over/json.qcow2"
qemu-img create -q -u -f qcow2 -b 'nbd:localhost:10809' -F raw "$T/over/nbd.qcow2" 16M
refused 65 "names a protocol, not a file" --disk "$T/over/nbd.qcow2"
# A loop: a <- b <- a (b's backing rewritten to point back at a).
qemu-img create -q -f qcow2 -b "$T/plain.qcow2" -F qcow2 "$T/over/a.qcow2"
qemu-img create -q -f qcow2 -b "$T/over/a.qcow2" -F qcow2 "$T/over/b.qcow2"
qemu-img rebase -u -b "$T/over/b.qcow2" -F qcow2 "$T/over/a.qcow2"
refused 65 "already in the chain (a loop)" --disk "$T/over/b.qcow2"
printf '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 32768 FLAT "raw.img" 0\n' >"$T/desc.vmdk"
refused 65 "a VMDK descriptor file" --disk "$T/desc.vmdk"
# A descriptor is refused however vmdk is named: forced, or as a qcow2's backing format.
refused 65 "a VMDK descriptor file" --format vmdk --disk "$T/desc.vmdk"
qemu-img create -q -u -f qcow2 -b "$T/desc.vmdk" -F vmdk "$T/over/viadesc.qcow2" 16M
refused 65 "a VMDK descriptor file" --disk "$T/over/viadesc.qcow2"
refused 65 "not a sparse VMDK" --format vmdk --disk "$T/raw.img"
# A backing file that is a device is looked at (O_PATH), never opened.
qemu-img create -q -u -f qcow2 -b /dev/null -F raw "$T/over/dev.qcow2" 16M
refused 64 "backing file /dev/null: a character device, not a regular file or block device" --disk "$T/over/dev.qcow2"
# A backing offset with an empty name is no backing file, as QEMU reads it (header bytes 8-19).
cp "$T/plain.qcow2" "$T/emptyname.qcow2"
printf '\0\0\0\0\0\0\2\0\0\0\0\0' | dd of="$T/emptyname.qcow2" bs=1 seek=8 conv=notrunc status=none
shows "$T/emptyname.qcow2"
# No qemu-storage-daemon: said so, status 69 (EX_UNAVAILABLE).
KVMLOAD_QSD=/nonexistent/qsd refused 69 "/nonexistent/qsd: No such file or directory; a qcow2 image is read by QEMU's qemu-storage-daemon" --disk "$T/plain.qcow2"
# The export is in the exporter's jail: a TMPDIR that JSON could not carry changes nothing.
mkdir -p "$T/t$(printf '\001')d"
TMPDIR="$T/t$(printf '\001')d" shows "$T/plain.qcow2"
# The exporter inherits nothing but its image, and runs jailed (jail.h): namespaces of its own,
# uid 0 there being the user kvmload-fs reads the disks as (its export is theirs), ours uid 1, CAP_SYS_ADMIN of its own namespaces alone, a root of /usr, the
# image on a read-only mount.
# The views above were unmounted, but their daemons (in the background) and exporters end a
# moment later: gone first, or the exporter marked below could be one of theirs.
for _ in $(seq 200); do [ -z "$(marked qemu-storage-da KVMLOAD_FORMATS_TEST)" ] && break; sleep 0.05; done
check "the earlier views' exporters ended" "" "$(marked qemu-storage-da KVMLOAD_FORMATS_TEST)"
exec 7<"$T/raw.img"
"$FS" -f --disk "$T/plain.qcow2" "$MNT" 2>"$T/err" &
FPID=$!
for _ in $(seq 100); do [ -d "$MNT/disk0" ] && break; sleep 0.05; done
QPID=$(marked qemu-storage-da KVMLOAD_FORMATS_TEST)
ls -l "/proc/$QPID/fd" >"$T/qfd" 2>&1
if [ -n "$QPID" ] && ! grep -q "raw.img" "$T/qfd"; then ok
else bad "the exporter ($QPID) inherited a descriptor: $(tr '\n' ' ' <"$T/qfd")"; fi
# 3 is the image on its read-only clone (named / in the jail), 4 QEMU's own opening of it.
check "the exporter: its descriptors" "0 -> /dev/null
1 -> /dev/null
2 -> pipe
3 -> /
4 -> /" "$(awk '$1 != "total" && $NF !~ /^anon_inode:|^\/dev\/fuse$/ { sub(/:.*/, "", $NF); print $(NF-2), $(NF-1), $NF }' "$T/qfd" | sort -n)"
check "the exporter: its root" "bin dev lib lib32 lib64 proc run sbin usr" "$(ls "/proc/$QPID/root" | paste -sd' ')"
check "the exporter: its /dev" "fuse null urandom zero" "$(ls "/proc/$QPID/root/dev" | paste -sd' ')"
check "the exporter: uid 0 inside is the disks' reader (kvmload), uid 1 is ours" "0 $(id -u kvmload) 1
1 $(id -u) 1" "$(awk '{ print $1, $2, $3 }' "/proc/$QPID/uid_map")"
check "the exporter: PID 1 of its own PID namespace" "NSpid:	$QPID	1" "$(grep '^NSpid:' "/proc/$QPID/status")"
for ns in user mnt pid net ipc uts; do
	[ "$(readlink "/proc/$QPID/ns/$ns")" != "$(readlink /proc/self/ns/$ns)" ] && ok ||
		bad "the exporter shares our $ns namespace"
done
check "the exporter: no capability but its namespaces' CAP_SYS_ADMIN" "CapEff:	0000000000200000
CapBnd:	0000000000200000
NoNewPrivs:	1" "$(grep -E '^(CapEff|CapBnd|NoNewPrivs):' "/proc/$QPID/status")"
match "the exporter: the image is read-only even where its mode is not" "*Read-only file system*" \
	"$(: 2>&1 >>"/proc/$QPID/fd/3")"
exec 7<&-
fusermount3 -u "$MNT"; wait $FPID
# A qcow2 QEMU cannot read: its L1 table pointer sent past the end of the file.
cp "$T/plain.qcow2" "$T/broken.qcow2"
printf '\x7f\xff\xff\xff\xff\xff\x00\x00' | dd of="$T/broken.qcow2" bs=1 seek=40 conv=notrunc status=none
refused 65 "QEMU cannot read it as qcow2" --disk "$T/broken.qcow2"

check "no image exporter outlived its view" "" "$(marked qemu-storage-da KVMLOAD_FORMATS_TEST)"
grep -q "kvmload-export" /proc/mounts && bad "an export is still mounted" || ok
lib_done
