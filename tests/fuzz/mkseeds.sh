#!/bin/sh
# mkseeds.sh: writes a fuzz target's seed corpus from small fixtures made at test time (makefs, sgdisk, mkdisklabel, the built plugins).
# usage: mkseeds.sh ufs|probe DIR MKDISKLABEL
#        mkseeds.sh plugin DIR PLUGIN.so...
#        mkseeds.sh conf DIR
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
*)
	echo "usage: mkseeds.sh ufs|probe|plugin|conf DIR ..." >&2
	exit 64
	;;
esac
