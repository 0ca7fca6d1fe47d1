#!/bin/bash
# mkpools.sh: builds the ZFS pools the kvmload-fs ZFS test reads, written by real ZFS code
# (zfs-fuse: pool version 23, file system version 4, no SA), and the trees they must show.
# usage: mkpools.sh WORKDIR   (made if missing; must be empty)
# exit: 0 built; 77 cannot run here (not root, no /dev/fuse, no zfs-fuse, a zfs-fuse daemon this
# script did not start is running, or zfs-fuse's pool cache would import other pools); 1 failed.
#
# zfs-fuse is one daemon per host (control socket /var/run/zfs/zfs_socket, its own lock
# /var/lock/zfs/zfs_lock, pool cache /var/lib/zfs/zpool.cache), and other build trees may run
# this test at the same time: the whole session holds /run/lock/kvmload-zfs-fuse.lock (flock),
# starts its own daemon (--no-daemon, its pid kept), creates every pool with cachefile=none
# (nothing is left for a later daemon to import) and its mount points under WORKDIR/zmnt,
# exports every pool, then stops the daemon by its pid and waits for it.
#
# What WORKDIR holds afterwards:
#   src/                 the source tree; huge/ holds sparse210, dense210 and dense20, which
#                        most datasets leave out (see omit= below)
#   expect/gz/           single/gz as it is after the snapshot snap1: src without huge/*,
#                        text/motd changed, deep/d01/hard_c removed
#   expect/precision     "s": zfs-fuse stores whole seconds (its setattr drops tv_nsec), so the
#                        view must show each mtime of src cut down to the second, .000000000
#   expect/fresh         "PATH MTIME" (PATH in the view's zfs/, MTIME to the nanosecond) of
#                        the files in single/fresh, which zfs-fuse wrote itself and nobody
#                        touched: their mtimes have nanoseconds (read from a zfs send stream
#                        of single/fresh@t, as zfs-fuse's stat shows only the seconds)
#   expect/POOLS         the pool names
#   expect/POOL.disks    its image files, in vdev order (absolute paths, as in the labels)
#   expect/POOL.layout   single, mirror, raidz1 or raidz2
#   expect/POOL.guid     the pool GUID (decimal, as zpool get guid prints it)
#   expect/POOL.vdevs    "IMAGE GUID" of each leaf vdev (from its label)
#   expect/POOL.bootfs   the dataset its member disk nodes show (bootfs, else the root dataset)
#   expect/POOL.datasets "DATASET TREE [skip=NAME] [omit=PATH]...": the tree (relative to
#                        WORKDIR) a dataset or snapshot (POOL/a@s) must show, but for
#                        skip=NAME, a top-level entry of the dataset that is not in the tree
#                        (a child dataset), and omit=PATH, a file of the tree
#                        that is not in the dataset
#   labels/IMAGE.label   zdb -l of each image, for whoever debugs a reader
#   zfs-fuse.log         the daemon's output
set -u
umask 022
export LC_ALL=C

W=${1:?usage: mkpools.sh WORKDIR}
. "$(dirname "$0")/zfsfuse.sh"

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "mkpools: $*" >&2; exit 1; }

zfsfuse_need openssl mknod truncate findmnt python3 $ZDB

mkdir -p "$W" || die "cannot make $W"
W=$(realpath "$W")
[ -z "$(ls -A "$W")" ] || die "$W is not empty"
S=$W/src E=$W/expect ZM=$W/zmnt
mkdir -p "$S" "$E" "$ZM" "$W/labels"

# Per step times: "mkpools: STEP 1.23 s".
T0=$EPOCHREALTIME TL=$EPOCHREALTIME
step() {
	awk -v s="$1" -v a="$TL" -v b="$EPOCHREALTIME" 'BEGIN { printf "mkpools: %-24s %6.2f s\n", s, b - a }'
	TL=$EPOCHREALTIME
}

# prng SEED BYTES: the same bytes on every machine (AES-128-CTR of zeros, key SEED).
prng() {
	openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$1")" -iv 00000000000000000000000000000000 \
		< /dev/zero 2> /dev/null | head -c "$2"
}
# island FILE OFFSET BYTES SEED: write prng bytes into FILE at OFFSET, leaving the rest as it is.
island() {
	prng "$4" "$3" | dd of="$1" bs=64K seek="$2" oflag=seek_bytes iflag=fullblock conv=notrunc status=none
}
rep() { head -c "$1" /dev/zero | tr '\0' "$2"; }   # rep N CHAR

# ---- the source tree: every shape the reader must handle
cd "$S" || die "cd $S"
cat > README <<'EOF'
kvmload ZFS fixture: this tree is copied into pools made by zfs-fuse and must read back
through kvmload-fs exactly as it is here.
EOF
mkdir text bin sizes big links special modes names huge
echo 'hello from the zfs guest' > text/motd
printf 'autoboot_delay="1"\nvfs.root.mountfrom="zfs:single/lzjb"\n' > text/loader.conf
seq -f 'line %06g of a text file that compresses well' 1 20000 > text/lines.txt  # 8 records
prng 1 300000 > bin/random.bin                      # random: no compression gain, 3 records
: > sizes/empty
printf x > sizes/one
prng 4 1000 > sizes/odd1000                        # one short block
prng 5 131072 > sizes/128k                         # exactly one record
prng 6 131073 > sizes/128k+1                       # two records, the second holding one byte
head -c 65536 /dev/zero > sizes/zeros64k           # compressed datasets keep no block for it
{ prng 7 65536; head -c 65536 /dev/zero; } > sizes/halfzero   # zle's case
prng 8 4096 > sizes/sparse_tail; truncate -s 1M sizes/sparse_tail   # a hole up to the end
# 5,000 entries: past a micro ZAP (one 128 KiB block of 64-byte entries, 2,047 at most): a fat ZAP
(cd big && for i in $(seq -w 0 4999); do echo "$i" > "f$i"; done)
# 40 levels of directories
p=deep
for i in $(seq -w 1 40); do p=$p/d$i; done
mkdir -p "$p"
echo bottom > "$p/leaf.txt"
# links: one file with 3 names in 2 directories; symlinks in the bonus buffer and in a block
echo 'shared data' > links/hard_a
ln links/hard_a links/hard_b
ln links/hard_a deep/d01/hard_c
ln -s ../text/motd links/short
ln -s "$(rep 55 a)" links/len55
ln -s "$(rep 56 b)" links/len56
ln -s "$(rep 57 c)" links/len57
ln -s "/$(rep 250 e)/x" links/long252
ln -s "$(for i in $(seq 1 100); do printf 'dir%05d/' "$i"; done)" links/long900
ln -s "/$(rep 998 f)/" links/long1000
ln -s ../deep links/dirlink
ln -s /nonexistent/target links/dangling
# special files (zfs-fuse stores Linux's dev_t as it is: 300:70000 is 0x11112c70 on disk)
mkfifo special/fifo
mknod special/null c 1 3
mknod special/loop99 b 7 99
mknod special/bigdev c 300 70000
# modes and owners
echo suid > modes/setuid; chmod 4755 modes/setuid
echo sgid > modes/setgid; chmod 2711 modes/setgid
mkdir modes/sticky; chmod 1777 modes/sticky
echo none > modes/none; chmod 0000 modes/none
echo owned > modes/owned; chown 1234:5678 modes/owned; chmod 0640 modes/owned
mkdir modes/owned_dir; echo inside > modes/owned_dir/file
chown -R 1234:5678 modes/owned_dir; chmod 0750 modes/owned_dir
ln -s owned modes/owned_link; chown -h 1234:5678 modes/owned_link
# names: a 255-byte name (no micro ZAP entry holds more than 49 bytes: a fat ZAP for 4 entries)
echo long > "names/$(rep 255 n)"
echo space > "names/with space"
echo utf8 > "names/ünïcødé ✓"
echo dash > names/-dash
# fixed times, nanoseconds included (pools that keep them show them); zfs-fuse takes times
# below 2^31 only (EOVERFLOW from 2038-01-19 03:14:08 on)
find . -depth -exec touch -h -d '2021-03-04 05:06:07.123456789' {} +
touch -d '1999-12-31 23:59:58.999999999' text/motd
touch -d '1969-07-20 20:17:40' modes/none
touch -d '1970-01-01 00:00:00' sizes/one
touch -d '2038-01-19 03:14:07.999999999' "$p/leaf.txt"
touch -h -d '2001-02-03 04:05:06.000000001' links/short
cd / || exit 1

# put DST [HUGE...]: src into DST (a dataset's root, or a directory), of huge/ only the files
# named; times, owners, modes, hard links and holes kept (not xattrs: zfs-fuse runs without)
TOP=()
for f in "$S"/* "$S"/.[!.]*; do [ -e "$f" ] && [ "${f##*/}" != huge ] && TOP+=("$f"); done
put() {
	local d=$1 f
	shift
	cp -dR --preserve=mode,ownership,timestamps,links "${TOP[@]}" "$d/" && mkdir "$d/huge" || return 1
	for f; do cp -p --sparse=always "$S/huge/$f" "$d/huge/" || return 1; done
	for f in huge .; do
		chown --reference="$S/$f" "$d/$f" && chmod --reference="$S/$f" "$d/$f" &&
			touch -r "$S/$f" "$d/$f" || return 1
	done
}
# SENDTIMES: python reading a zfs send stream (version 23: 312-byte records, native byte order)
# on stdin, printing "OBJECT MTIME-SECONDS MTIME-NANOSECONDS" for each znode (znode_phys_t in
# the bonus buffer: zp_atime[2], zp_mtime[2], ...)
SENDTIMES='
import struct, sys
f = sys.stdin.buffer
while True:
    r = f.read(312)
    if len(r) < 312:
        sys.exit("short stream")
    typ, plen = struct.unpack_from("<II", r, 0)
    if typ == 0:                                      # DRR_BEGIN
        if struct.unpack_from("<Q", r, 8)[0] != 0x2F5BACBAC:
            sys.exit("not a send stream")
        f.read(plen)
    elif typ == 1:                                    # DRR_OBJECT, then the bonus buffer
        obj, otype, btype, blksz, bonuslen = struct.unpack_from("<QIIII", r, 8)
        bonus = f.read((bonuslen + 7) & ~7)
        if btype == 17:                               # DMU_OT_ZNODE
            sec, nsec = struct.unpack_from("<QQ", bonus, 16)
            print(obj, sec, nsec)
    elif typ == 3:                                    # DRR_WRITE, then its data
        f.read(struct.unpack_from("<Q", r, 32)[0])
    elif typ == 5:                                    # DRR_END
        break
    elif typ not in (2, 4, 6):                        # FREEOBJECTS, FREE, WRITE_BYREF
        sys.exit("record type %d?" % typ)
'
# after_snap DIR: what single/gz gets done to it after the snapshot snap1
after_snap() {
	echo 'changed after snap1' > "$1/text/motd" && rm "$1/deep/d01/hard_c" &&
		touch -d '2022-02-02 02:02:02' "$1/text/motd" "$1/deep/d01"
}
mkdir "$E/gz"
{ put "$E/gz" && after_snap "$E/gz"; } || die "expect/gz"
# huge: 210 MiB (past 128 MiB, what one level of indirect blocks covers with 128 KiB records).
# Written last: ext4's ordered mode would make every file made after them wait for their blocks.
h=$S/huge
truncate -s 210M "$h/sparse210"
island "$h/sparse210" 0 4096 10
island "$h/sparse210" $((1048576 + 12345)) 200000 11
island "$h/sparse210" $((134217728 - 1000)) 3000 12   # across the first L1 block's end
island "$h/sparse210" $((220200960 - 4096)) 4096 13
prng 2 220200960 > "$h/dense210"
prng 3 20971520 > "$h/dense20"
touch -d '2021-03-04 05:06:07.123456789' "$h"/* "$h"
[ "$(stat -c %s "$h/dense210")" = 220200960 ] || die "prng: short output (openssl?)"
echo s > "$E/precision"
step "source tree"

# ---- the zfs-fuse session, under the lock
zfsfuse_lock
step "lock"
# shellcheck disable=SC2034 # ZFSFUSE_MNT: read by zfsfuse_end
ZFSFUSE_MNT=$ZM FILLS=''
cleanup() {
	local p
	# Copies still running (each its own process group): they would write on under the mount
	# points once the pools are gone.
	for p in $FILLS; do kill -TERM -- "-$p" 2> /dev/null; done
	for p in $FILLS; do wait "$p" 2> /dev/null; done
	zfsfuse_end
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
zfsfuse_start "$W/zfs-fuse.log"
step "zfs-fuse up"

z() { "$@" || die "failed: $*"; }
mkpool() { # mkpool NAME LAYOUT ASHIFT SIZE IMAGE-NAME...: images made in WORKDIR
	local name=$1 layout=$2 ashift=$3 size=$4 img imgs=() vdev=()
	shift 4
	for img in "$@"; do
		truncate -s "$size" "$W/$img"
		imgs+=("$W/$img")
	done
	case $layout in mirror | raidz1 | raidz2) vdev=("$layout") ;; esac
	z $ZPOOL create -o version=23 -o cachefile=none -o ashift="$ashift" -O version=4 \
		-O mountpoint="$ZM/$name" "$name" "${vdev[@]}" "${imgs[@]}"
	ZFSFUSE_POOLS="$ZFSFUSE_POOLS $name"
	echo "$name" >> "$E/POOLS"
	printf '%s\n' "${imgs[@]}" > "$E/$name.disks"
	echo "$layout" > "$E/$name.layout"
	echo "$name" > "$E/$name.bootfs"
	[ "$(findmnt -n -o FSTYPE "$ZM/$name")" = fuse.zfs ] || die "$name is not mounted at $ZM/$name"
}

# single: one 700 MiB image; the root holds all of src; three compressed children
mkpool single single 12 700M single.img
for c in gz:gzip lzjb:lzjb zle:zle; do z $ZFSCMD create -o compression="${c#*:}" "single/${c%:*}"; done
# zfs-fuse refuses a gzip bootfs ("we don't support gzip bootable datasets"): lzjb then
z $ZPOOL set bootfs=single/lzjb single
echo single/lzjb > "$E/single.bootfs"
z $ZFSCMD create single/fresh
for f in a b c; do echo "written by zfs-fuse: $f" > "$ZM/single/fresh/$f"; done
mkpool mir mirror 9 128M mir-a.img mir-b.img
mkpool rz1 raidz1 12 200M rz1-a.img rz1-b.img rz1-c.img
mkpool rz2 raidz2 9 128M rz2-a.img rz2-b.img rz2-c.img rz2-d.img
step "pools created"

# Fill them, the pools side by side (zfs-fuse is threaded); each copy its own process group
# (set -m), for cleanup to stop it whole.
all=(omit=huge/sparse210 omit=huge/dense210 omit=huge/dense20)
set -m
cp -dR --preserve=mode,ownership,timestamps,links --sparse=always "$S/." "$ZM/single/" &
FILLS=$!
{ put "$ZM/single/gz" && put "$ZM/single/lzjb" && put "$ZM/single/zle"; } &
FILLS="$FILLS $!"
{ put "$ZM/mir" && put "$ZM/rz2" dense20; } &
FILLS="$FILLS $!"
put "$ZM/rz1" dense210 &
FILLS="$FILLS $!"
set +m
for j in $FILLS; do
	wait "$j"
	st=$?
	FILLS=${FILLS#"$j"}
	FILLS=${FILLS# }
	[ "$st" -eq 0 ] || die "filling the pools failed"
done
cat > "$E/single.datasets" <<EOF
single src skip=fresh skip=gz skip=lzjb skip=zle
single/gz expect/gz
single/gz@snap1 src ${all[*]}
single/lzjb src ${all[*]}
single/zle src ${all[*]}
EOF
echo "mir src ${all[*]}" > "$E/mir.datasets"
echo "rz1 src omit=huge/sparse210 omit=huge/dense20" > "$E/rz1.datasets"
echo "rz2 src omit=huge/sparse210 omit=huge/dense210" > "$E/rz2.datasets"

# single/gz: the snapshot, then a file changed and one name of the 3-link file removed
z $ZFSCMD snapshot single/gz@snap1
after_snap "$ZM/single/gz" || die "changing single/gz after the snapshot"
# The mtimes of the files zfs-fuse wrote itself, from their znodes in a send stream
z $ZFSCMD snapshot single/fresh@t
$ZFSCMD send single/fresh@t | python3 -c "$SENDTIMES" > "$W/fresh.times" || die "zfs send single/fresh@t"
(cd "$ZM/single/fresh" && stat -c '%i %n %Y' a b c) | while read -r ino name sec; do
	t=$(awk -v o="$ino" '$1 == o { printf "%d.%09d", $2, $3 }' "$W/fresh.times")
	[ "${t%.*}" = "$sec" ] || die "fresh/$name: the send stream says mtime $t, zfs-fuse's stat $sec"
	echo "single/fresh/$name $t"
done > "$E/fresh"
[ "$(wc -l < "$E/fresh")" = 3 ] || die "no mtimes for single/fresh/*"
rm "$W/fresh.times"
step "pools filled"

# What zfs-fuse made of the trees, at its precision (whole seconds): a fixture that differs from
# its tree would blame the reader for zfs-fuse's doing.
quick() { # quick DIR [PATH...]: types, modes, owners, links, sizes (not of directories), mtimes
	# in whole seconds (rounded down, as a timespec is) and link targets; PATHs and what is
	# under them left out
	local d=$1
	shift
	(cd "$d" && find . -printf '%y\t%m\t%U\t%G\t%n\t%s\t%T@\t%P\t%l\n') |
		awk -F '\t' -v OFS='\t' -v out="$*" 'BEGIN { n = split(out, o, " ") } {
			for (i = 1; i <= n; i++) if ($8 == o[i] || index($8, o[i] "/") == 1) next
			if ($1 == "d") $6 = "-"
			if ($8 == "") $5 = "-"   # the root: links from child datasets and fresh/
			s = $7; f = ""; if (i = index(s, ".")) { f = substr(s, i + 1); s = substr(s, 1, i - 1) }
			if (s ~ /^-/ && f ~ /[1-9]/) s = sprintf("%d", s - 1)
			$7 = s
			print }' | sort
}
bad=
while read -r ds tree opts; do
	case $ds in *@*) continue ;; esac   # zfs-fuse shows no .zfs directory
	skips='' omits=''
	for o in $opts; do case $o in skip=*) skips="$skips ${o#skip=}" ;; omit=*) omits="$omits ${o#omit=}" ;; esac; done
	# shellcheck disable=SC2086 # lists of plain names
	diff <(quick "$W/$tree" $omits) <(quick "$ZM/$ds" $skips) > "$W/fixture.diff" ||
		{ bad="$bad $ds"; cat "$W/fixture.diff" >&2; }
done < <(cat "$E"/*.datasets)
[ -z "$bad" ] || die "zfs-fuse did not store the trees as they are:$bad"
rm -f "$W/fixture.diff"
[ "$(du -k "$ZM/single/huge/sparse210" | cut -f1)" -lt 10240 ] ||
	die "huge/sparse210 lost its holes on the way into single"
step "pools checked"

# GUIDs: the pool's, and each leaf vdev's from its own label
for p in $ZFSFUSE_POOLS; do
	$ZPOOL get guid "$p" | awk 'NR == 2 { print $3 }' > "$E/$p.guid"
	[ -s "$E/$p.guid" ] || die "no guid for pool $p"
	: > "$E/$p.vdevs"
	while read -r img; do
		l=$W/labels/${img##*/}.label
		$ZDB -l "$img" > "$l" 2>&1 || die "zdb -l $img failed"
		[ "$(awk '$1 == "pool_guid:" { print $2; exit }' "$l")" = "$(cat "$E/$p.guid")" ] ||
			die "$img: its label's pool_guid is not the guid zpool shows ($(cat "$E/$p.guid"))"
		echo "$img $(awk '$1 == "guid:" { print $2; exit }' "$l")" >> "$E/$p.vdevs"
	done < "$E/$p.disks"
done
step "guids"

for p in $ZFSFUSE_POOLS; do z zfsfuse_export "$p"; done
ZFSFUSE_POOLS=
step "pools exported"
zfsfuse_stop
step "zfs-fuse stopped"
[ -z "$(awk -v w="$ZM" '$2 == w || index($2, w "/") == 1' /proc/mounts)" ] || die "mounts left under $ZM"
rm -rf "$ZM"
awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "mkpools: %-24s %6.2f s\n", "total", b - a }'
