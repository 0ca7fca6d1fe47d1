#!/bin/bash
# mkzfspools.sh: three tiny ZFS pools written by zfs-fuse for the ZFS fuzz seeds and the ZFS
# corruption suite: one disk, a two-way mirror and a three-disk raidz1, 64 MiB images each
# (zfs-fuse's smallest device), holding a few files of every shape the reader handles.
# usage: mkzfspools.sh DIR   (made if missing)
# exit: 0 built; 77 cannot run here (not root, no /dev/fuse, no zfs-fuse, a zfs-fuse daemon this
# script did not start is running, the zfs-fuse lock held for 300 s); 1 failed.
#
# DIR holds afterwards: single.img (pool fzs, ashift 9, lzjb; a child dataset with gzip, one with
# zle, a snapshot), mir-a.img mir-b.img (pool fzm, ashift 12), rz-a.img rz-b.img rz-c.img (pool
# fzr, raidz1, ashift 9), POOLS ("NAME IMAGE..." per pool) and zfs-fuse.log.
#
# zfs-fuse is one daemon per host: like tests/zfs/mkpools.sh this holds
# /run/lock/kvmload-zfs-fuse.lock (flock) for the whole session, starts its own daemon with
# --no-daemon, makes every pool with cachefile=none, exports every pool and stops the daemon by
# its pid.  4 s (12 s on a busy machine).
set -u
umask 022
export LC_ALL=C

D=${1:?usage: mkzfspools.sh DIR}
. "$(dirname "$0")/../zfs/zfsfuse.sh"

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "mkzfspools: $*" >&2; exit 1; }

zfsfuse_need
mkdir -p "$D" || die "cannot make $D"
D=$(realpath "$D")
ZM=$D/zmnt
mkdir -p "$ZM"

zfsfuse_lock
# shellcheck disable=SC2034 # read by zfsfuse_end
ZFSFUSE_MNT=$ZM
cleanup() {
	zfsfuse_end
	rm -rf "$ZM" 2> /dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
zfsfuse_start "$D/zfs-fuse.log"

z() { "$@" || die "failed: $*"; }
mkpool() { # mkpool NAME LAYOUT ASHIFT IMAGE-NAMES...
	local name=$1 layout=$2 ashift=$3 img imgs=() vdev=()
	shift 3
	for img in "$@"; do
		rm -f "$D/$img"
		truncate -s 64M "$D/$img"
		imgs+=("$D/$img")
	done
	case $layout in mirror | raidz1) vdev=("$layout") ;; esac
	z $ZPOOL create -o version=23 -o cachefile=none -o ashift="$ashift" -O version=4 \
		-O compression=lzjb -O mountpoint="$ZM/$name" "$name" "${vdev[@]}" "${imgs[@]}"
	ZFSFUSE_POOLS="$ZFSFUSE_POOLS $name"
	echo "$name ${imgs[*]}" >> "$D/POOLS"
}
# tree DIR: a few files of every shape, small and compressible, so that the seeds stay small.
tree() {
	local t=$1 i
	mkdir -p "$t/dir/sub/deeper" "$t/fat"
	echo 'hello from a zfs-fuse pool' > "$t/hello"
	: > "$t/empty"
	seq -f 'line %05g of a file of three records and an indirect block' 1 5500 > "$t/dir/lines"
	printf 'sparse' > "$t/dir/sparse"; truncate -s 300k "$t/dir/sparse"
	echo leaf > "$t/dir/sub/deeper/leaf"
	ln -s hello "$t/short"
	ln -s "$(head -c 120 /dev/zero | tr '\0' 'L')" "$t/dir/long"
	ln "$t/hello" "$t/dir/hard"
	mkfifo "$t/fifo"
	mknod "$t/null" c 1 3
	# a name past a micro ZAP entry's 49 bytes: this directory is a fat ZAP
	echo fat > "$t/fat/$(head -c 60 /dev/zero | tr '\0' 'n')"
	for i in 1 2 3; do echo "$i" > "$t/fat/f$i"; done
}
: > "$D/POOLS"
mkpool fzs single 9 single.img
z $ZFSCMD create -o compression=gzip fzs/gz
z $ZFSCMD create -o compression=zle fzs/zle
tree "$ZM/fzs"
tree "$ZM/fzs/gz"
echo zle > "$ZM/fzs/zle/file"
z $ZFSCMD snapshot fzs/gz@s1
echo 'changed after s1' > "$ZM/fzs/gz/hello"
mkpool fzm mirror 12 mir-a.img mir-b.img
tree "$ZM/fzm"
mkpool fzr raidz1 9 rz-a.img rz-b.img rz-c.img
tree "$ZM/fzr"
sync
for p in $ZFSFUSE_POOLS; do z zfsfuse_export "$p"; done
ZFSFUSE_POOLS=
zfsfuse_stop
