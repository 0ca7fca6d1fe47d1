#!/bin/sh
# mkseeds.sh: writes a fuzz target's seed corpus from small fixtures made at test time (makefs, sgdisk, mkdisklabel, the built plugins, printf).
# usage: mkseeds.sh ufs|probe DIR MKDISKLABEL
#        mkseeds.sh plugin DIR PLUGIN.so...
#        mkseeds.sh conf DIR
#        mkseeds.sh qmp DIR
#        mkseeds.sh diskfmt DIR    (qemu-img: images in each format, chains' overlays; else 77)
#        mkseeds.sh handoff DIR
#        mkseeds.sh zfs DIR MKZFSSEED   (root, zfs-fuse: pools made by mkzfspools.sh; else 77)
set -eu
kind=$1 dir=$2
shift 2
mkdir -p "$dir"
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT

# tree NAME BIGSIZE: a tree with every inode type the reader handles, small enough for 64 KiB images.
tree() {
	t=$work/tree-$1
	mkdir -p "$t/d/e"
	echo hello > "$t/a"
	head -c "$2" /dev/zero | tr '\0' 'z' > "$t/d/big"
	ln -s a "$t/short"
	ln -s "$(head -c 130 /dev/zero | tr '\0' 'l')" "$t/d/long"
	ln "$t/a" "$t/d/hard"
	echo x > "$t/d/e/f"
	mkfifo "$t/fifo"
	echo "$t"
}

ufs() { # ufs OUT SIZE MAKEFS-OPTIONS...: a UFS image of the small tree
	out=$1 size=$2
	shift 2
	makefs -t ffs -s "$size" "$@" "$out" "$(tree "$(basename "$out")" 9000)" > /dev/null
}

# le VALUE BYTES: VALUE as BYTES little-endian bytes (one printf, octal escapes; VALUE < 2^63).
# (sh has no local variables: le's own are named so no caller's is overwritten.)
le() {
	le_v=$1 le_n=$2 le_s=
	while [ "$le_n" -gt 0 ]; do
		le_s="$le_s\\$((le_v >> 6 & 3))$((le_v >> 3 & 7))$((le_v & 7))"
		le_v=$((le_v >> 8)) le_n=$((le_n - 1))
	done
	printf "$le_s"
}

zeros() {
	head -c "$1" /dev/zero
}

# smap ENTRIES BASE LEN ...: a SMAP metadata record (MODINFO_METADATA | MODINFOMD_SMAP) of RAM
# entries, padded to 8, then MODINFO_END.
smap() {
	n=$1
	shift
	le 0x9001 4
	le $((20 * n)) 4
	while [ $# -gt 0 ]; do
		le "$1" 8
		le "$2" 8
		le 1 4
		shift 2
	done
	zeros $(((8 - 20 * n % 8) % 8))
	le 0 8
}

case $kind in
ufs)
	command -v makefs > /dev/null || { echo "makefs not installed"; exit 77; }
	ufs "$dir/ufs1-4k" 64k -o version=1,bsize=4096,fsize=512
	ufs "$dir/ufs2-4k" 64k -o version=2,bsize=4096,fsize=512
	ufs "$dir/ufs1-be" 64k -B be -o version=1,bsize=4096,fsize=512
	ufs "$dir/ufs2-be" 64k -B be -o version=2,bsize=4096,fsize=512
	ufs "$dir/ufs2-8k" 96k -o version=2
	# A file past the 12 direct blocks: one indirect block.
	makefs -t ffs -s 128k -o version=1,bsize=4096,fsize=512 "$dir/ufs1-indirect" \
		"$(tree indirect 60000)" > /dev/null
	;;
probe)
	mklabel=$1
	for t in sgdisk makefs; do
		command -v $t > /dev/null || { echo "$t not installed"; exit 77; }
	done
	ufs "$work/u2" 64k -o version=2,bsize=4096,fsize=512
	ufs "$work/u1" 64k -o version=1,bsize=4096,fsize=512
	put() { dd if="$1" of="$2" bs=512 seek="$3" conv=notrunc status=none; }
	# GPT: freebsd-boot, freebsd-ufs (UFS2), freebsd-ufs (UFS1) with labels.
	truncate -s 200k "$dir/gpt"
	sgdisk -a 1 -n 1:34:41 -t 1:a501 -c 1:boot -n 2:48:175 -t 2:a503 -c 2:root \
		-n 3:176:303 -t 3:a503 -c 3:var "$dir/gpt" > /dev/null
	put "$work/u2" "$dir/gpt" 48
	put "$work/u1" "$dir/gpt" 176
	# MBR: a FreeBSD slice with a BSD label (a: UFS2, b: swap), a second slice holding UFS1.
	truncate -s 200k "$dir/mbr"
	"$mklabel" mbr "$dir/mbr" 1:0xa5:1:200 2:0xa5:201:128
	"$mklabel" bsd "$dir/mbr" 1 200 rel a:16:128:7 b:144:32:1
	put "$work/u2" "$dir/mbr" 17
	put "$work/u1" "$dir/mbr" 201
	# A disk without a table: UFS from sector 0.
	cp "$work/u1" "$dir/bare"
	;;
plugin)
	for so in "$@"; do
		cp "$so" "$dir/$(basename "$so")"
	done
	;;
conf)
	cat > "$dir/two-vms" <<'CONF'
# a USB disk and an iSCSI LUN
[vm usb1]
disk-uuid = 9B20A89E-E68F-49B2-8131-5838DD29E39F
serial = SanDisk_Ultra_4C530001230512116372
memory = 1G
env = autoboot_delay=3
env = boot_verbose=YES
restart = yes

; by UFS volume name
[vm lun7]
fs-label = lun7root
memory = 512M
console = /var/log/kvmload/lun7.log
CONF
	cat > "$dir/every-key" <<'CONF'
[vm all]
part-uuid = 0c5e4f1a-2b3c-4d5e-8f90-123456789abc
fs-uuid = 5f2b1c3d4e5f6a7b
loader = /usr/lib/kvmload/userboot_4th.so
loader-dir = /usr/lib/kvmload
boot-part = disk0p2
memory = 2048M
restart = no
CONF
	printf '[vm bad name]
memory = lots
unknown = 1
[vm dup]
serial = X
[vm dup]
serial = X
no equals sign
' \
		> "$dir/errors"
	;;
diskfmt)
	# The first 64 KiB of small images of every format qemu-img writes, overlays naming backing files.
	command -v qemu-img >/dev/null 2>&1 || exit 77
	truncate -s 4M "$work/raw.img"
	for f in qcow2 qcow qed vmdk vpc vhdx vdi parallels; do
		qemu-img convert -O $f "$work/raw.img" "$work/i.$f" && head -c 65536 "$work/i.$f" > "$dir/$f"
	done
	qemu-img convert -O vmdk -o subformat=streamOptimized "$work/raw.img" "$work/s.vmdk" &&
		head -c 65536 "$work/s.vmdk" > "$dir/vmdk-stream"
	qemu-img create -q -f qcow2 -b raw.img -F raw "$work/o.qcow2" && head -c 65536 "$work/o.qcow2" > "$dir/qcow2-backing"
	qemu-img create -q -f qed -b raw.img -F raw "$work/o.qed" && head -c 65536 "$work/o.qed" > "$dir/qed-backing"
	qemu-img create -q -f vmdk -b "$work/i.vmdk" -F vmdk "$work/o.vmdk" && head -c 65536 "$work/o.vmdk" > "$dir/vmdk-delta"
	;;
qmp)
	# What QEMU 7.2 sends (tests/unit/test_qmp.c): the greeting, returns, errors, events.
	greeting='{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}'
	status='{"return": {"status": "internal-error", "singlestep": false, "running": false}}'
	hmc='{"return": "RAX=0000000000000000 RBX=...\r\nRIP=ffffffff80200000 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n\"q\" \\ \t \/ \u00e9\u20ac\ud83d\ude00"}'
	error='{"error": {"class": "GenericError", "desc": "Invalid parameter '"'x'"'"}}'
	shutdown='{"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-reset"}}'
	panicked='{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "GUEST_PANICKED", "data": {"action": "pause", "info": {"type": "hyper-v", "arg1": 0, "arg2": -1.5e3, "list": [1, null, true, {"reason": "nested"}]}}}'
	stop='{"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "STOP"}'
	reset='{"timestamp": {"seconds": 1, "microseconds": 5}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}'
	printf '%s\r\n' "$greeting" > "$dir/greeting"
	printf '%s\r\n' "$hmc" > "$dir/return-hmc"
	printf '%s\r\n' "$error" > "$dir/error"
	printf '%s\r\n' "$shutdown" "$panicked" "$stop" "$reset" > "$dir/events"
	# A whole session: capabilities, query-status with an id, a command QEMU does not know.
	printf '%s\r\n' "$greeting" '{"return": {}}' \
		'{"return": {"status": "running", "running": true}, "id": "s1"}' "$status" "$hmc" \
		' {"id":"e2","error":{"desc":"no","class":"CommandNotFound"}} ' "$error" \
		'{"return": [{"cpu-index": 0, "status": "x"}]}' '{"return": ""}' "$stop" "$shutdown" \
		> "$dir/session"
	# The edges test_qmp.c tries: control bytes escaped, numbers, names cut to their fields,
	# 31 arrays inside "return" (the deepest accepted), then 32 (refused: the stream ends there).
	open= close= i=0
	while [ $i -lt 31 ]; do open="$open[" close="$close]" i=$((i + 1)); done
	long=$(head -c 80 /dev/zero | tr '\0' 'N')
	printf '%s\n' '{"return": "\u0001\u001f\b\f\u007f\u00ff"}' '{"return": [-0.5e+10, 0, 12E3, 1.25e-2]}' \
		"{\"event\": \"$long\", \"data\": {\"reason\": \"$long\"}, \"id\": \"$long\"}" \
		"{\"return\": $open$close}" "{\"return\": [$open$close]}" > "$dir/edges"
	;;
handoff)
	# The 32-byte header fuzz_handoff.c reads, then the bytes for guest-physical 0x1000 on.
	# userboot's elf64_exec: the stack at 0x1000 (modulep 0x6000 at 0x1004), identity page
	# tables at 0x2000-0x4fff with 2 MiB pages, the GDT at 0x5000, the SMAP at 0x6000;
	# footprint: 0x1000-0x5020, the metadata, the kernel at 2 MiB.
	{
		le 0x25 1; le 0 1; le 2 2; le 0x1000 4; le 0x5000 4; le 24 2; le 0x5000 2
		le $((0x1000 / 128)) 2; le $((0x4020 / 16)) 2; le $((0x6000 / 128)) 2; le $((0x100 / 16)) 2
		le $((0x200000 / 128)) 2; le $((0x10000 / 16)) 2; le 0 4
		le 0 4; le 0x6000 4; le 0x210000 4; zeros $((4096 - 12))
		i=0
		while [ $i -lt 512 ]; do le 0x3003 8; i=$((i + 1)); done
		i=0
		while [ $i -lt 512 ]; do le 0x4003 8; i=$((i + 1)); done
		i=0
		while [ $i -lt 512 ]; do le $((i << 21 | 0x83)) 8; i=$((i + 1)); done
		le 0 8; le 0x0020980000000000 8; le 0x0000920000000000 8; zeros $((4096 - 24))
		smap 2 0 0xa0000 0x100000 $((0x800000 - 0x100000))
	} > "$dir/userboot-long"
	# elf32_exec: the stack page at 0x1000 (sp 0x1fdc, modulep 0x2000 at sp + 28), the SMAP
	# at 0x2000, libvmmapi's GDT at 0x3000 (handoff_build writes it), paging off.
	{
		le 0x14 1; le 0 3; le 0x1fdc 4; le 0x3000 4; le 31 2; le 0x1000 2
		le $((0x1000 / 128)) 2; le $((0x1000 / 16)) 2; le $((0x2000 / 128)) 2; le $((0x40 / 16)) 2
		le 0 8
		zeros $((0xff8)); le 0x2000 4; zeros 4
		smap 1 0 0xa0000
	} > "$dir/userboot-i386"
	;;
zfs)
	# Pools zfs-fuse writes (mkzfspools.sh, 64 MiB members), cut down to the non-zero sectors the
	# reader reads (mkzfsseed: 60-190 KiB each; --min: label 0 and the newest uberblock only).
	mkseed=$1 P=$work/pools
	"$(dirname "$0")/mkzfspools.sh" "$P" > "$work/pools.log" 2>&1 || {
		rc=$?
		cat "$work/pools.log"
		exit $rc
	}
	"$mkseed" "$dir/single" "$P/single.img" > /dev/null
	"$mkseed" --min "$dir/single-min" "$P/single.img" > /dev/null
	"$mkseed" --min --verify "$dir/single-min-verify" "$P/single.img" > /dev/null
	"$mkseed" --min "$dir/mirror" "$P/mir-a.img" "$P/mir-b.img" > /dev/null
	"$mkseed" --min "$dir/mirror-one-side" "$P/mir-b.img" > /dev/null
	"$mkseed" --min "$dir/raidz1" "$P/rz-a.img" "$P/rz-b.img" "$P/rz-c.img" > /dev/null
	;;
*)
	echo "usage: mkseeds.sh ufs|probe|plugin|conf|qmp|handoff|zfs DIR ..." >&2
	exit 64
	;;
esac
