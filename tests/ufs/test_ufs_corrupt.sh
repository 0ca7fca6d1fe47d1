#!/bin/bash
# test_ufs_corrupt.sh: patches chosen fields of small UFS images and checks ufsls's exit code and its one log line naming the field; also holes and triple indirect blocks made by patching.
# At least 30% of the patched images must be walked: opened (ufsls info succeeds) and failed
# on the patched inode or directory entry, not refused at open; 49 of 120 (40%) are, so the
# checks past the superblock are reached and a reader that refused more at open would fail.
# usage: test_ufs_corrupt.sh UFSLS UFSPATCH
. "$(dirname "$0")/../lib.sh"
UFSLS=$1
UFSPATCH=$2
need_tools makefs
T=$(mktemp -d)
scratch_dir "$T"
export LC_ALL=C
# A sanitizer report must not pass for the expected exit code 1.
export ASAN_OPTIONS="exitcode=86${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=87${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
PATCHED=0 WALKED=0

src=$T/src
mkdir -p "$src/dir/sub"
head -c 200000 /dev/zero | tr '\0' '\377' > "$src/five"
head -c 40000 /dev/urandom > "$src/rand"
echo hello > "$src/dir/hard_a"
echo x > "$src/dir/sub/f"
ln -s hard_a "$src/dir/link"
for v in 1 2; do
	makefs -t ffs -b 20% -s 4m -o version=$v "$T/base$v.img" "$src" > /dev/null 2>&1 || bad "makefs v$v"
done
makefs -t ffs -B be -b 20% -s 4m -o version=2 "$T/basebe.img" "$src" > /dev/null 2>&1 || bad "makefs be"

# corrupt DESC BASE PATTERN PATCH-ARGS -- UFSLS-ARGS: expect exit 1, one "ufs:" line matching PATTERN
corrupt() {
	desc=$1 base=$2 pattern=$3
	shift 3
	cp "$T/$base.img" "$T/c.img"
	pargs=
	while [ "$1" != -- ]; do pargs="$pargs $1"; shift; done
	shift
	# shellcheck disable=SC2086
	"$UFSPATCH" "$T/c.img" $pargs || { bad "$desc: patch failed"; return; }
	PATCHED=$((PATCHED + 1))
	"$UFSLS" "$T/c.img" info > /dev/null 2>&1 && WALKED=$((WALKED + 1))
	timeout 20 "$UFSLS" "$T/c.img" "$@" > /dev/null 2> "$T/err"
	rc=$?
	if [ $rc -ne 1 ]; then bad "$desc: exit $rc: $(cat "$T/err")"; return; fi
	lines=$(grep -c '^ufsls: ufs: ' "$T/err")
	if [ "$lines" != 1 ] || ! grep -q "^ufsls: ufs: .*$pattern" "$T/err"; then
		bad "$desc: log lines: $(cat "$T/err")"
		return
	fi
	if ! tail -n 1 "$T/err" | grep -q 'Input/output error$'; then
		bad "$desc: last line: $(cat "$T/err")"
		return
	fi
	ok
}

for b in base1 base2 basebe; do
	cp "$T/$b.img" "$T/c.img"
	"$UFSPATCH" "$T/c.img" sb magic 0
	out=$("$UFSLS" "$T/c.img" info 2>&1); rc=$?
	check "$b magic 0" "ufsls: $T/c.img: no UFS superblock found 1" "$out $rc"
	corrupt "$b bad magic" $b "fs_magic = FS_BAD_MAGIC" sb magic 0x19960408 -- info
	corrupt "$b bsize" $b "fs_bsize = 12345 " sb bsize 12345 -- info
	corrupt "$b bsize 0" $b "fs_bsize = 0 " sb bsize 0 -- info
	corrupt "$b bsize 128k" $b "fs_bsize = 131072 " sb bsize 131072 -- info
	corrupt "$b fsize" $b "fs_fsize = 3000 " sb fsize 3000 -- info
	corrupt "$b frag 16" $b "fs_frag = 16 " sb frag 16 -- info
	corrupt "$b frag 4" $b "fs_frag = 4 does not equal" sb frag 4 -- info
	corrupt "$b bshift" $b "fs_bshift = 3 " sb bshift 3 -- info
	corrupt "$b sbsize" $b "fs_sbsize = 100 " sb sbsize 100 -- info
	corrupt "$b ncg 0" $b "fs_ncg = 0 " sb ncg 0 -- info
	corrupt "$b ncg 1000" $b "fs_size = .* does not fit fs_ncg" sb ncg 1000 -- info
	corrupt "$b ipg 0" $b "fs_ipg = 0 " sb ipg 0 -- info
	corrupt "$b ipg 7" $b "fs_ipg = 7 " sb ipg 7 -- info
	corrupt "$b ipg huge" $b "fs_dblkno = 40 is not fs_iblkno + fs_ipg" sb ipg 0xffffff80 -- info
	corrupt "$b fpg 0" $b "fs_fpg = 0 " sb fpg 0 -- info
	corrupt "$b nindir" $b "fs_nindir = 5 " sb nindir 5 -- info
	corrupt "$b inopb" $b "fs_inopb = 5 " sb inopb 5 -- info
	corrupt "$b maxsymlinklen" $b "fs_maxsymlinklen = 5 " sb maxsymlinklen 5 -- info
	corrupt "$b iblkno" $b "fs_iblkno = 99 " sb iblkno 99 -- info
	corrupt "$b dblkno" $b "fs_dblkno = 99 " sb dblkno 99 -- info
	corrupt "$b size" $b "fs_size = 99999999 " sb size 99999999 -- info
	corrupt "$b sblockloc" $b "fs_sblockloc = 65536 " sb sblockloc 65536 -- info
	corrupt "$b db beyond fs_size" $b "inode [0-9]*: di_db\[3\] = 99999999 beyond fs_size" inode /five db3 99999999 -- cat /five
	corrupt "$b negative db" $b "di_db\[0\] = -5 beyond" inode /five db0 -5 -- cat /five
	corrupt "$b ib beyond fs_size" $b "di_ib\[0\] = 88888888 beyond" inode /five ib0 88888888 -- cat /five
	corrupt "$b indirect entry" $b "indirect block [0-9]* entry 0 = -1 beyond fs_size" inode /five ib0 db0 -- cat /five 98304 10
	corrupt "$b huge size" $b "di_size = 4611686018427387904 exceeds fs_maxfilesize" inode /five size 0x4000000000000000 -- cat /five
	corrupt "$b symlink size" $b "di_size = 1000000 exceeds the symlink limit" inode /dir/link size 1000000 -- stat /dir/link
	corrupt "$b dir size" $b "di_size = 1000 of a directory" inode /dir size 1000 -- ls /dir
	corrupt "$b bad mode" $b "di_mode = 0170644 has no valid file type" inode /five mode 0170644 -- stat /five
	corrupt "$b nsec" $b "di_mtimensec = 2000000000 " inode /five mtimensec 2000000000 -- stat /five
	corrupt "$b root not dir" $b "the root is not a directory" inode / mode 0100644 -- info
	corrupt "$b reclen 0" $b "d_reclen = 0 is not a non-zero multiple of 4" dirent /dir hard_a reclen 0 -- ls /dir
	corrupt "$b reclen 13" $b "d_reclen = 13 is not a non-zero multiple of 4" dirent /dir hard_a reclen 13 -- ls /dir
	corrupt "$b reclen crossing" $b "d_reclen = 1024 crosses a 512-byte" dirent /dir hard_a reclen 1024 -- ls /dir
	corrupt "$b reclen < DIRSIZ" $b "d_reclen = 16 is below DIRSIZ" dirent /dir hard_a namlen 200 -- ls /dir
	corrupt "$b no NUL" $b "d_namlen = 3 is not followed by NUL" dirent /dir hard_a namlen 3 -- ls /dir
	corrupt "$b ino beyond" $b "d_ino = 999999 is beyond fs_ipg" dirent /dir hard_a ino 999999 -- ls /dir
	corrupt "$b lookup sees it too" $b "d_reclen = 0 " dirent /dir hard_a reclen 0 -- cat /dir/sub/f
done
# A device smaller than fs_size (a partition window cut short).
out=$(timeout 20 "$UFSLS" --size 1048576 "$T/base2.img" info 2>&1); rc=$?
check "truncated device" "ufsls: ufs: superblock at 8192: fs_size = 4096 frags exceed the device
ufsls: $T/base2.img: Input/output error 1" "$out $rc"
# Two-field corruptions: both fields are written in one ufspatch call.
corrupt "ufs1 cgoffset" base1 "fs_old_cgoffset = 100 " sb cgoffset 100 cgmask 0 -- info
corrupt "ipg * ncg" base2 "fs_ipg = 2147483648 times fs_ncg exceeds 2^32" sb ncg 2 ipg 0x80000000 -- info
# 4.2BSD directories (UFS1, fs_maxsymlinklen <= 0): 16-bit d_namlen, so a 4.4BSD directory reads as names > 255.
corrupt "old format namlen" base1 "d_namlen = 260 exceeds 255" sb old_inodefmt 1 maxsymlinklen 0 -- ls /

# Holes: a zero block pointer reads as zeros, the rest is untouched.
for b in base1 base2 basebe; do
	cp "$T/$b.img" "$T/h.img"
	bs=$("$UFSLS" "$T/h.img" info | sed -n 's/^bsize: //p')
	"$UFSPATCH" "$T/h.img" inode /rand db1 0
	{ head -c "$bs" "$src/rand"; head -c "$bs" /dev/zero; tail -c +$((2 * bs + 1)) "$src/rand"; } > "$T/want"
	if "$UFSLS" "$T/h.img" cat /rand | cmp -s - "$T/want"; then ok; else bad "$b hole"; fi
	# Triple indirect: block 1 moved behind di_ib[2], everything between is a hole.
	cp "$T/$b.img" "$T/t.img"
	off=$("$UFSPATCH" "$T/t.img" triple /rand) || { bad "$b triple patch"; continue; }
	check "$b triple size" "size: $((off + bs))" "$("$UFSLS" "$T/t.img" stat /rand | grep '^size:')"
	check "$b triple block" "$(tail -c +$((bs + 1)) "$src/rand" | head -c "$bs" | md5sum)" \
		"$("$UFSLS" "$T/t.img" cat /rand "$off" | md5sum)"
	check "$b triple block 0" "$(head -c "$bs" "$src/rand" | md5sum)" "$("$UFSLS" "$T/t.img" cat /rand 0 "$bs" | md5sum)"
	check "$b triple hole" "$(head -c 65536 /dev/zero | md5sum)" \
		"$("$UFSLS" "$T/t.img" cat /rand $((off - 65536)) 65536 | md5sum)"
done

echo "$WALKED of $PATCHED patched images opened and walked to the damage ($((PATCHED ? 100 * WALKED / PATCHED : 0))%; at least 30% required), the rest refused at open"
if [ "$PATCHED" -gt 0 ] && [ $((100 * WALKED)) -ge $((30 * PATCHED)) ]; then ok
else bad "$WALKED of $PATCHED patched images walked, under the floor of 30%"; fi
lib_done
