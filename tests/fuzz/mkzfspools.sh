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
LOCK=/run/lock/kvmload-zfs-fuse.lock
SOCK=/var/run/zfs/zfs_socket
CACHE=/var/lib/zfs/zpool.cache
ZFS_FUSE=/sbin/zfs-fuse ZPOOL=/sbin/zpool ZFSCMD=/sbin/zfs

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "mkzfspools: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (zfs-fuse)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
for t in $ZFS_FUSE $ZPOOL $ZFSCMD; do [ -x "$t" ] || skip "$t not installed (apt-get install zfs-fuse)"; done
command -v flock > /dev/null || skip "flock not installed"
mkdir -p "$D" || die "cannot make $D"
D=$(realpath "$D")
ZM=$D/zmnt
mkdir -p "$ZM"

exec 9>> "$LOCK" || die "cannot open $LOCK"
flock -w 300 9 || skip "$LOCK: still held after 300 s by another zfs-fuse user"
for p in /proc/[0-9]*; do
	[ "$(cat "$p/comm" 2> /dev/null)" = zfs-fuse ] &&
		skip "a zfs-fuse daemon this script did not start is running (pid ${p#/proc/}); not touching it"
done
[ -s $CACHE ] && skip "$CACHE exists: a zfs-fuse daemon would import the pools it names"
ZPID=
POOLS=
stop_daemon() {
	[ -n "$ZPID" ] || return 0
	kill -TERM "$ZPID" 2> /dev/null
	for _ in $(seq 300); do [ -d "/proc/$ZPID" ] || break; sleep 0.1; done
	if [ -d "/proc/$ZPID" ]; then
		echo "mkzfspools: zfs-fuse (pid $ZPID) still running 30 s after SIGTERM: SIGKILL" >&2
		kill -KILL "$ZPID"
	fi
	wait "$ZPID" 2> /dev/null
	ZPID=
}
cleanup() {
	local p m
	if [ -n "$ZPID" ]; then
		for p in $POOLS; do $ZPOOL export -f "$p" > /dev/null 2>&1; done
		stop_daemon
	fi
	awk -v w="$ZM/" 'index($2, w) == 1 || $2 == substr(w, 1, length(w) - 1) { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$ZM" 2> /dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The daemon must not hold the lock's descriptor.
$ZFS_FUSE --no-daemon --no-kstat-mount > "$D/zfs-fuse.log" 2>&1 9>&- &
ZPID=$!
for _ in $(seq 100); do
	[ -d "/proc/$ZPID" ] || break
	[ -S $SOCK ] && $ZPOOL list > /dev/null 2>&1 && break
	sleep 0.1
done
[ -d "/proc/$ZPID" ] || { ZPID=; die "zfs-fuse exited at once: $(cat "$D/zfs-fuse.log")"; }
$ZPOOL list > /dev/null 2>&1 || die "zfs-fuse (pid $ZPID) does not answer on $SOCK"

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
	POOLS="$POOLS $name"
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
# An export right after the writes may find the pool busy for a moment ("pool is busy"): retry,
# then force it (the pool is idle; only the mount is still being let go).
export_pool() {
	local i
	for i in $(seq 20); do
		$ZPOOL export "$1" 2> /dev/null && return 0
		sleep 0.5
	done
	z $ZPOOL export -f "$1"
}
sync
for p in $POOLS; do export_pool "$p"; done
POOLS=
stop_daemon
