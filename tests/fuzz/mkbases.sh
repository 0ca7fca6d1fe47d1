#!/bin/sh
# mkbases.sh: the corruption suite's intact images: UFS1, UFS2, big-endian UFS2, a GPT disk and an MBR disk with a BSD label.
# usage: mkbases.sh DIR MKDISKLABEL
set -eu
dir=$1 mklabel=$2
for t in makefs sgdisk; do
	command -v $t > /dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
mkdir -p "$dir"
src=$dir/tree
mkdir -p "$src/etc" "$src/boot/kernel" "$src/deep/a/b/c/d" "$src/many"
echo 'hello from the guest' > "$src/etc/motd"
printf 'kernel="kernel"\n' > "$src/boot/loader.conf"
head -c 150000 /dev/urandom > "$src/boot/kernel/kernel"   # past the 12 direct blocks
head -c 3000 /dev/urandom > "$src/boot/kernel/tail"        # a fragment tail
echo bottom > "$src/deep/a/b/c/d/leaf"
(cd "$src/many" && seq -f 'entry%03g' 1 200 | xargs touch)
ln -s loader.conf "$src/boot/link"
ln -s "$(head -c 150 /dev/zero | tr '\0' 'x')" "$src/boot/longlink"
ln "$src/etc/motd" "$src/etc/motd.hard"
mkfifo "$src/etc/fifo"

makefs -t ffs -s 2m -o version=1 "$dir/ufs1.img" "$src" > /dev/null
makefs -t ffs -s 2m -o version=2 "$dir/ufs2.img" "$src" > /dev/null
makefs -t ffs -s 2m -B be -o version=2 "$dir/ufs2be.img" "$src" > /dev/null
put() { dd if="$1" of="$2" bs=512 seek="$3" conv=notrunc status=none; }
truncate -s 5m "$dir/gpt.img"
sgdisk -a 1 -n 1:40:295 -t 1:a501 -c 1:boot -n 2:296:4391 -t 2:a503 -c 2:root \
	-n 3:4392:8487 -t 3:a503 -c 3:var "$dir/gpt.img" > /dev/null
put "$dir/ufs2.img" "$dir/gpt.img" 296
put "$dir/ufs1.img" "$dir/gpt.img" 4392
truncate -s 5m "$dir/mbr.img"
"$mklabel" mbr "$dir/mbr.img" 1:0xa5:63:4200 2:0xa5:4263:4096
"$mklabel" bsd "$dir/mbr.img" 63 4200 rel a:16:4096:7 b:4112:64:1
put "$dir/ufs2be.img" "$dir/mbr.img" 79
put "$dir/ufs1.img" "$dir/mbr.img" 4263
rm -rf "$src"
