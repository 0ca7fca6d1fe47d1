#!/bin/sh
# mkfixtures.sh: builds the source tree the UFS reader tests turn into images: every shape the reader must handle.
# usage: mkfixtures.sh DIR   (DIR must not exist)
set -eu
d=$1
mkdir "$d"
cd "$d"

# 30 levels of directories
p=deep
for i in $(seq -w 1 30); do p=$p/l$i; done
mkdir -p "$p"
echo bottom > "$p/leaf.txt"

# 10,000 entries in one directory
mkdir many
(cd many && seq -f 'entry%05g' 0 9999 | xargs touch)

# sizes around blocks and fragments (8 KiB blocks, 1 KiB frags on UFS2; 4 KiB / 512 on UFS1)
mkdir sizes
: > sizes/empty
printf x > sizes/one
head -c 4096 /dev/urandom > sizes/block4k
head -c 8192 /dev/urandom > sizes/block8k
head -c 3000 /dev/urandom > sizes/tail3000
head -c 9192 /dev/urandom > sizes/block_and_tail
head -c 40000 /dev/urandom > sizes/five_blocks
# needs double indirect blocks with 8 KiB (UFS2) and 4 KiB (UFS1) blocks
head -c 10485760 /dev/urandom > sizes/double_indirect
# holes in the source (makefs stores them as zero blocks; the reader must return zeros either way)
head -c 5000 /dev/urandom > sizes/sparse
truncate -s 3000000 sizes/sparse
printf end >> sizes/sparse

# links
mkdir links
echo "shared data" > links/hard_a
ln links/hard_a links/hard_b
ln links/hard_a deep/hard_c
mk_target() { head -c "$1" /dev/zero | tr '\0' "$2"; }
ln -s ../sizes/one links/fast
ln -s "$(mk_target 59 a)" links/len59
ln -s "$(mk_target 60 b)" links/len60
ln -s "$(mk_target 119 c)" links/len119
ln -s "$(mk_target 120 d)" links/len120
ln -s "/$(mk_target 200 e)/x" links/long200
ln -s ../deep links/dirlink

# modes and owners
mkdir modes
echo suid > modes/setuid; chmod 04755 modes/setuid
echo sgid > modes/setgid; chmod 02711 modes/setgid
echo none > modes/none; chmod 0000 modes/none
mkdir modes/sticky; chmod 01777 modes/sticky
mkdir modes/sgid_dir; chmod 02750 modes/sgid_dir
echo u1000 > modes/owned1000
echo u65534 > modes/owned65534
echo u4242 > modes/owned4242
if [ "$(id -u)" = 0 ]; then
	chown 1000:1000 modes/owned1000
	chown 65534:100 modes/owned65534
	chown 4242:4343 modes/owned4242 modes/sgid_dir
	chown -h 77:88 links/fast
	mknod modes/null c 1 3
fi
mkfifo modes/fifo

# names
mkdir names
echo space > "names/with space"
echo utf8 > "names/ünïcødé ✓"
echo long > "names/$(mk_target 255 n)"
echo dash > names/-dash

# fixed times, so metadata comparisons are about the reader, not the clock
touch -h -d '2001-02-03 04:05:06' links/fast
touch -d '1999-12-31 23:59:59' sizes/one
