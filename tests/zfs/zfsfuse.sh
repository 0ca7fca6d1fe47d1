# zfsfuse.sh: the one way the tests run zfs-fuse (sourced).  zfs-fuse is one daemon per host
# (control socket, lock and pool cache under /var), shared with other build trees' tests and
# bench/run: a session holds /run/lock/kvmload-zfs-fuse.lock (flock, descriptor 9) throughout,
# never uses a daemon it did not start, starts its own with --no-daemon, makes its pools with
# cachefile=none, exports them and stops its daemon by pid.  The caller defines skip MSG (exit
# 77) and die MSG (exit 1), and sets ZFSFUSE_POOLS (the pools to export) and ZFSFUSE_MNT (where
# their datasets are mounted) before zfsfuse_end runs.
# shellcheck shell=bash
# shellcheck disable=SC2034 # ZFSCMD and ZDB: for the scripts that source this
ZFS_FUSE=/sbin/zfs-fuse ZPOOL=/sbin/zpool ZFSCMD=/sbin/zfs ZDB=/sbin/zdb
ZFSFUSE_LOCK=/run/lock/kvmload-zfs-fuse.lock
ZFSFUSE_SOCK=/var/run/zfs/zfs_socket
ZFSFUSE_CACHE=/var/lib/zfs/zpool.cache
ZPID='' ZFSFUSE_POOLS='' ZFSFUSE_MNT=''

# zfsfuse_need TOOL...: skip unless root, /dev/fuse and zfs-fuse's programs (and each TOOL) are here.
zfsfuse_need() {
	local t
	[ "$(id -u)" -eq 0 ] || skip "needs root (zfs-fuse)"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	for t in $ZFS_FUSE $ZPOOL $ZFSCMD; do [ -x "$t" ] || skip "$t not installed (apt-get install zfs-fuse)"; done
	for t in flock "$@"; do command -v "$t" > /dev/null || skip "$t not installed"; done
}

# zfsfuse_lock: the lock (waiting up to 300 s), and no daemon or pool cache of anybody else's.
zfsfuse_lock() {
	local p
	exec 9>> "$ZFSFUSE_LOCK" || die "cannot open $ZFSFUSE_LOCK"
	flock -w 300 9 || skip "$ZFSFUSE_LOCK: still held after 300 s by another zfs-fuse user"
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2> /dev/null)" = zfs-fuse ] &&
			skip "a zfs-fuse daemon this script did not start is running (pid ${p#/proc/}); not touching it"
	done
	[ -s $ZFSFUSE_CACHE ] && skip "$ZFSFUSE_CACHE exists: a zfs-fuse daemon started here would import the pools it names"
	return 0
}

# zfsfuse_start LOG: our own daemon, answering on its socket.  It must not hold the lock's
# descriptor: one that outlived us would be taken for somebody else's.
zfsfuse_start() {
	$ZFS_FUSE --no-daemon --no-kstat-mount > "$1" 2>&1 9>&- &
	ZPID=$!
	for _ in $(seq 100); do
		[ -d "/proc/$ZPID" ] || break
		[ -S $ZFSFUSE_SOCK ] && $ZPOOL list > /dev/null 2>&1 && break
		sleep 0.1
	done
	[ -d "/proc/$ZPID" ] || { ZPID=; die "zfs-fuse exited at once: $(cat "$1")"; }
	$ZPOOL list > /dev/null 2>&1 || die "zfs-fuse (pid $ZPID) does not answer on $ZFSFUSE_SOCK"
}

# zfsfuse_stop: SIGTERM, up to 30 s, then SIGKILL; reaped.
zfsfuse_stop() {
	[ -n "$ZPID" ] || return 0
	kill -TERM "$ZPID" 2> /dev/null
	for _ in $(seq 300); do [ -d "/proc/$ZPID" ] || break; sleep 0.1; done
	if [ -d "/proc/$ZPID" ]; then
		echo "zfs-fuse (pid $ZPID) still running 30 s after SIGTERM: SIGKILL" >&2
		kill -KILL "$ZPID"
	fi
	wait "$ZPID" 2> /dev/null
	ZPID=
}

# zfsfuse_export POOL: an export right after the writes may find the pool busy for a moment
# (its mount is still being let go): retried for 10 s, then forced.
zfsfuse_export() {
	for _ in $(seq 20); do
		$ZPOOL export "$1" 2> /dev/null && return 0
		sleep 0.5
	done
	$ZPOOL export -f "$1"
}

# zfsfuse_end: what a session leaves, undone: its pools force-exported, its daemon stopped, the
# mounts a killed daemon left under ZFSFUSE_MNT detached, deepest first.
zfsfuse_end() {
	local p m
	if [ -n "$ZPID" ]; then
		for p in $ZFSFUSE_POOLS; do $ZPOOL export -f "$p" > /dev/null 2>&1; done
		zfsfuse_stop
	fi
	[ -n "$ZFSFUSE_MNT" ] || return 0
	awk -v w="$ZFSFUSE_MNT" '$2 == w || index($2, w "/") == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
}
