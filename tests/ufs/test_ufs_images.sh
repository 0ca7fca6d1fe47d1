#!/bin/bash
# test_ufs_images.sh: builds UFS1/UFS2/big-endian images of the fixture tree with makefs and compares ufsls's view with the source tree.
# usage: test_ufs_images.sh UFSLS UFSPATCH UFSTHREADS
. "$(dirname "$0")/../lib.sh"
UFSLS=$1
UFSPATCH=$2
UFSTHREADS=$3
here=$(cd "$(dirname "$0")" && pwd)
need_tools makefs
T=$(mktemp -d)
scratch_dir "$T"
export LC_ALL=C
CAT_FILTER=  # extra find(1) tests choosing which files compare_tree reads back

"$here/mkfixtures.sh" "$T/src" || { echo "fixture tree failed"; exit 1; }

# The listing ufsls ls -lR prints, rebuilt from the source tree (directory sizes differ by design).
normalize() { awk '{ if ($1 ~ /^d/) $5 = "-"; print }' | sort; }
expected_listing() {
	(cd "$1" && find . -mindepth 1 -printf '%M|%n|%U|%G|%s|%T@|%P|%l\n') |
		awk -F'|' '{ line = $1 " " $2 " " $3 " " $4 " " $5 " " int($6) " " $7
			     if ($1 ~ /^l/) line = line " -> " $8; print line }' | normalize
}

# compare_tree IMAGE SRC [UFSLS OPTIONS...]: listing and the bytes of every regular file
compare_tree() {
	img=$1 src=$2
	shift 2
	expected_listing "$src" > "$T/want"
	if "$UFSLS" "$@" "$img" ls -lR / > "$T/got.raw" 2> "$T/err"; then
		normalize < "$T/got.raw" > "$T/got"
		if cmp -s "$T/want" "$T/got"; then ok; else
			bad "$img: ls -lR differs from the source tree"; diff "$T/want" "$T/got" | head -20 >&2
		fi
	else
		bad "$img: ls -lR failed: $(cat "$T/err")"
	fi
	(cd "$src" && find . -type f ! -path './many/entry*[1-9]*' $CAT_FILTER -printf '%P\n') > "$T/files"
	while IFS= read -r f; do
		if "$UFSLS" "$@" "$img" cat "/$f" 2> "$T/err" | cmp -s - "$src/$f"; then ok; else
			bad "$img: cat /$f differs: $(cat "$T/err")"
		fi
	done < "$T/files"
}

info_line() { "$UFSLS" "$1" info | sed -n "s/^$2: //p"; }

build() { # IMAGE SRC makefs-options...
	img=$1 src=$2
	shift 2
	makefs -t ffs -b 10% -f 10% "$@" "$img" "$src" > "$T/makefs.log" 2>&1 ||
		{ cat "$T/makefs.log" >&2; bad "makefs $* failed"; return 1; }
}

# 1. the big fixture in four flavours; UFS1 with 4 KiB blocks so 10 MiB needs double indirect
build "$T/ufs1.img" "$T/src" -o version=1,bsize=4096,fsize=512
build "$T/ufs2.img" "$T/src" -o version=2
build "$T/ufs2be.img" "$T/src" -B be -o version=2
build "$T/ufs1be.img" "$T/src" -B be -o version=1
for i in ufs1:UFS1:little:4096 ufs2:UFS2:little:8192 ufs2be:UFS2:big:8192 ufs1be:UFS1:big:8192; do
	IFS=: read -r name ver endian bsize <<-EOF2
	$i
	EOF2
	img=$T/$name.img
	check "$name version" "$ver" "$(info_line "$img" version)"
	check "$name endian" "$endian" "$(info_line "$img" endian)"
	check "$name sblock" 8192 "$(info_line "$img" sblock_offset)"
	check "$name bsize" "$bsize" "$(info_line "$img" bsize)"
	compare_tree "$img" "$T/src"
	check "$name many" 10000 "$("$UFSLS" "$img" ls /many | wc -l)"
	a=$("$UFSLS" "$img" stat /links/hard_a | grep '^ino:')
	check "$name hard link b" "$a" "$("$UFSLS" "$img" stat /links/hard_b | grep '^ino:')"
	check "$name hard link c" "$a" "$("$UFSLS" "$img" stat /deep/hard_c | grep '^ino:')"
	check "$name stat fast" "target: ../sizes/one" "$("$UFSLS" "$img" stat /links/fast | grep '^target:')"
	check "$name symlinked dir" bottom \
		"$("$UFSLS" "$img" cat /links/dirlink/l01/l02/l03/l04/l05/l06/l07/l08/l09/l10/l11/l12/l13/l14/l15/l16/l17/l18/l19/l20/l21/l22/l23/l24/l25/l26/l27/l28/l29/l30/leaf.txt)"
	check "$name partial read" "$(tail -c +1000001 "$T/src/sizes/double_indirect" | head -c 70000 | od -An -tx1 | md5sum)" \
		"$("$UFSLS" "$img" cat /sizes/double_indirect 1000000 70000 | od -An -tx1 | md5sum)"
done

# Concurrent readers share one struct ufs (and its indirect-block cache: 4 KiB blocks, double indirect).
if "$UFSTHREADS" "$T/ufs1.img" /sizes/double_indirect "$T/src/sizes/double_indirect" > "$T/thr" 2>&1; then ok; else
	bad "concurrent reads: $(cat "$T/thr")"
fi

# 2. error reporting of the CLI
out=$("$UFSLS" "$T/ufs2.img" ls /nope 2>&1); rc=$?
check "ENOENT text" "ufsls: /nope: No such file or directory" "$out"
check "ENOENT rc" 1 "$rc"
out=$("$UFSLS" "$T/ufs2.img" ls /sizes/one/x 2>&1); rc=$?
check "ENOTDIR" "ufsls: /sizes/one/x: Not a directory 1" "$out $rc"
out=$("$UFSLS" "$T/ufs2.img" cat /deep 2>&1); rc=$?
check "EISDIR" "ufsls: /deep: Is a directory 1" "$out $rc"
head -c 1048576 /dev/zero > "$T/zero.img"
out=$("$UFSLS" "$T/zero.img" info 2>&1); rc=$?
check "not UFS" "ufsls: $T/zero.img: no UFS superblock found 1" "$out $rc"
"$UFSLS" > /dev/null 2>&1; check "usage rc" 64 $?
"$UFSLS" "$T/ufs2.img" frob > /dev/null 2>&1; check "bad command rc" 64 $?
"$UFSLS" "$T/ufs2.img" ls -x > /dev/null 2>&1; check "bad ls flag rc" 64 $?

# 3. a partition window inside a bigger file
{ head -c 1048576 /dev/urandom; cat "$T/ufs2.img"; head -c 65536 /dev/urandom; } > "$T/window.img"
compare_tree "$T/window.img" "$T/src" --offset 1048576 --size "$(stat -c %s "$T/ufs2.img")"

# 4. superblock search: FreeBSD's UFS2 layout (64 KiB) and the UFS1 64 KiB-block backup trap
mkdir "$T/small" "$T/small/boot"
echo 'kernel="kernel"' > "$T/small/boot/loader.conf"
head -c 3000 /dev/urandom > "$T/small/boot/data"
build "$T/sb64k.img" "$T/small" -o version=2 -s 4m
"$UFSPATCH" "$T/sb64k.img" move-sb 65536 || bad "move-sb failed"
check "64k sblock" 65536 "$(info_line "$T/sb64k.img" sblock_offset)"
compare_tree "$T/sb64k.img" "$T/small"
build "$T/ufs1_64k.img" "$T/small" -o version=1,bsize=65536,fsize=8192 -s 8m
check "ufs1 64k-block sblock" 8192 "$(info_line "$T/ufs1_64k.img" sblock_offset)"
check "ufs1 64k-block bsize" 65536 "$(info_line "$T/ufs1_64k.img" bsize)"
compare_tree "$T/ufs1_64k.img" "$T/small"
"$UFSPATCH" "$T/sb64k.img" sb volname rootfs || bad "volname patch"
check "volname" rootfs "$(info_line "$T/sb64k.img" volname)"

# 5. a real FreeBSD /boot, when the machine has one
if [ -n "${KVMLOAD_FREEBSD_ROOT:-}" ] && [ -d "$KVMLOAD_FREEBSD_ROOT/boot" ]; then
	mkdir "$T/fbsd"
	cp -a "$KVMLOAD_FREEBSD_ROOT/boot" "$T/fbsd/boot"
	build "$T/fbsd.img" "$T/fbsd" -o version=2
	compare_tree "$T/fbsd.img" "$T/fbsd"
	# A second flavour, reading back only the big files (each ufsls run costs a process).
	build "$T/fbsd1.img" "$T/fbsd" -B be -o version=1
	CAT_FILTER="-size +100k"
	compare_tree "$T/fbsd1.img" "$T/fbsd"
else
	skip_part "KVMLOAD_FREEBSD_ROOT unset: FreeBSD /boot comparison"
fi
lib_done
