#!/bin/bash
# test_confine.sh: kvmload-fs: the owner's child reads the disks and serves as the unprivileged user (the owner reads no more than a disk's first KiB, nor does --list's parent), without capabilities, under no_new_privs and its seccomp allowlist, with only its descriptors; a forbidden call kills it and the owner removes the mount; nosuid/noexec views and --allow-exec; -o and --user refusals; a run without privilege.
# usage: test_confine.sh KVMLOAD_FS INJECT_SYSCALL
. "$(dirname "$0")/../lib.sh"
FS=$(realpath "$1")
INJECT=$(realpath "$2")

need_root
need_fuse
need_tools makefs fusermount3 setpriv pgrep mkfifo
id kvmload > /dev/null 2>&1 || skip "no user kvmload (./setup.sh creates it)"
NB=$(id -un 65534)

T=$(mktemp -d /tmp/kvmload-confine.XXXXXX)
MNT=$T/mnt MNT2=$T/mnt2 NBMNT=$T/nb/mnt
# shellcheck disable=SC2034 # OWNERS: read by an on_exit command
OWNERS=
scratch_dir "$T"
on_exit 'for p in $OWNERS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done'
on_exit 'for m in $MNT $MNT2 $NBMNT; do grep -q " $m fuse" /proc/mounts && fusermount3 -u -z "$m"; done'
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }

# ---- a UFS disk with a setuid-root program, a host tree; nobody may reach the mount points ($T 711)
chmod 711 "$T"
mkdir -p "$T/src/etc" "$T/src/bin" "$T/host/sub" "$MNT" "$MNT2" "$T/nb"
echo 'hello from the guest' > "$T/src/etc/motd"
cp /usr/bin/id "$T/src/bin/id"
chown 0:0 "$T/src/bin/id"
chmod 4755 "$T/src/bin/id"
echo 'host file' > "$T/host/sub/file"
makefs -t ffs -o version=2 -s 8m "$T/ufs.img" "$T/src" > /dev/null || exit 1
chmod 644 "$T/ufs.img"

# start MNT ARGS...: kvmload-fs -f on MNT (run by AS, when set) until it answers; sets OWNER (the
# pid its caller gets, as viewd does) and SERVER (its child).  It inherits stdio and the ready pipe
# (3) alone, so every other descriptor the server holds is its own.
AS=()
start() {
	local mnt=$1
	shift
	rm -f "$T/ready"
	mkfifo "$T/ready"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 3 ] && eval "exec $fd>&-"
		done
		exec "${AS[@]}" "$FS" -f --ready-fd 3 "$@" "$mnt"
	) 3> "$T/ready" < /dev/null > /dev/null 2> "$T/err" &
	OWNER=$!
	OWNERS="$OWNERS $OWNER"
	if read -r -n 1 -t 30 < "$T/ready"; then ok; else bad "kvmload-fs $* $mnt did not come up: $(cat "$T/err")"; fi
	SERVER=$(pgrep -P "$OWNER" -x kvmload-fs-srv)
}

# ---- the server: kvmload's uid and gid, no capability, seccomp, no_new_privs
start "$MNT" --disk "$T/ufs.img" --host "$T/host"
check "the server is the owner's one child" "$SERVER" "$(pgrep -P "$OWNER")"
grep -E '^(Uid|Gid|CapPrm|CapEff|NoNewPrivs|Seccomp):' "/proc/$SERVER/status"
confined "the server" "$SERVER" kvmload
# The owner: root, with the capabilities to unmount (CAP_SYS_ADMIN) and signal the server (CAP_KILL).
check "the owner" "Uid:	0	0	0	0
CapEff:	0000000000200020" "$(grep -E '^(Uid|CapEff):' "/proc/$OWNER/status")"
check "reads as the server" "hello from the guest
host file" "$(cat "$MNT/disk0/etc/motd" "$MNT/host0/sub/file")"

# ---- the server's descriptors: stdio, /dev/fuse (the session's and each worker's clone), the disk,
# the host tree and what beneath it was looked up; the ready pipe is closed once used.  The owner's
# one /dev/fuse is of no connection (with the server gone the mount answers ENOTCONN instead of
# hanging: test_kvmload_fs.sh kills a server).
fds() { # fds PID: each descriptor's target, host paths as host/..., one per line, sorted
	local f
	for f in /proc/$1/fd/*; do readlink "$f"; done | sed "s|^$T/host\(/.*\)\?$|host|" | LC_ALL=C sort | uniq -c |
		awk '{ print $2 ($1 > 1 ? " (several)" : "") }'
}
check "the server's descriptors" "/dev/fuse (several)
/dev/null (several)
$T/err
$T/ufs.img
host (several)" "$(fds "$SERVER")"
check "the owner's /dev/fuse" "/dev/fuse" "$(fds "$OWNER" | grep fuse)"

# ---- a system call outside the allowlist kills the server (SIGSYS); the owner says so and unmounts.
# First a control: an allowed call (getpid, 39) returns the server's pid and the view goes on.
check "an allowed call (getpid)" "returned $SERVER" "$("$INJECT" "$SERVER" 39 2>&1)"
check "the view still answers" "hello from the guest" "$(cat "$MNT/disk0/etc/motd" 2>&1)"
check "a forbidden call (socket)" "killed by signal 31 (Bad system call)" "$("$INJECT" "$SERVER" 41 2>&1)"
wait "$OWNER"
check "the owner's status: 128 + SIGSYS" 159 $?
check "the owner's report" "kvmload-fs: the server (pid $SERVER) was killed by signal 31 (Bad system call): a system call outside its seccomp allowlist; unmounting $MNT" "$(cat "$T/err")"
if mounted "$MNT"; then bad "the mount outlived its server"; else ok; fi

# stopped DESC MNT: SIGTERM to the owner ends it with status 0, silently, and its mount goes
stopped() {
	kill -TERM "$OWNER"
	wait "$OWNER"
	check "$1: status" 0 $?
	check "$1: nothing said" "" "$(cat "$T/err")"
	if mounted "$2"; then bad "$1: still mounted"; else ok; fi
}

# ---- SIGTERM to the owner (what viewd sends the pid it started) ends the server; the mount goes; status 0
start "$MNT" --disk "$T/ufs.img"
check "mount options" "ro,nosuid,nodev,noexec" \
	"$(awk -v m="$MNT" '$2 == m { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] ~ /^(ro|nosuid|nodev|noexec)$/) s = s (s ? "," : "") o[i]; print s }' /proc/mounts)"
# noexec: the setuid program on the disk does not run at all.
match "noexec: the program is not run" "*Permission denied*" "$("$MNT/disk0/bin/id" 2>&1)"
stopped "SIGTERM" "$MNT"

# ---- --allow-exec: files run, setuid bits do not (nosuid): nobody stays nobody
start "$MNT2" --allow-exec -o allow_other,exec --disk "$T/ufs.img"
check "--allow-exec: id -u as $NB" "65534" "$(setpriv --reuid="$NB" --regid=65534 --clear-groups "$MNT2/disk0/bin/id" -u 2>&1)"
check "--allow-exec: id -ur as $NB" "65534" "$(setpriv --reuid="$NB" --regid=65534 --clear-groups "$MNT2/disk0/bin/id" -ur 2>&1)"
kill -TERM "$OWNER"
wait "$OWNER"

# ---- refused: -o options that would undo the guarantees or the guards, and users
refused() { # refused STATUS TEXT ARGS...: exit STATUS, TEXT in the message, nothing mounted
	local want=$1 text=$2 st
	shift 2
	timeout 20 "$FS" "$@" --disk "$T/ufs.img" "$MNT" 2> "$T/refused.err" < /dev/null > /dev/null
	st=$?
	check "$*: status" "$want" "$st"
	match "$*: message" "*$text*" "$(cat "$T/refused.err")"
	if mounted "$MNT"; then bad "$*: mounted"; fusermount3 -u -z "$MNT"; else ok; fi
}
refused 64 "-o suid: refused" -o suid
refused 64 "-o dev: refused" -o dev
refused 64 "-o exec: a view is noexec; use --allow-exec" -o exec
refused 64 "-o subtype=x: refused" -o subtype=x
refused 64 "-o fsname=x: refused" -o ro,fsname=x
refused 64 "-o blkdev: not an option" -o blkdev
refused 64 "-o auto_unmount: refused" -o auto_unmount
refused 67 "user nosuchuser-$$ does not exist" --user "nosuchuser-$$"
refused 64 "user root has uid 0" --user root

# ---- guest bytes are read by the confined process alone.  The owner (root) opens the disk and
# reads its first KiB (disk_open: the image format), nothing else of it; the partition table is
# read, and one refused (a Mac partition map: 65), by the server as kvmload, which says so and ends
# before the view is ready; the owner removes the mount and ends with its status.
MAC=$T/mac.img
truncate -s 4m "$MAC"
printf 'ER\002\000' | dd of="$MAC" conv=notrunc status=none
printf 'PM\000\000\000\000\000\001\000\000\000\001\000\000\000\077' | dd of="$MAC" bs=1 seek=512 conv=notrunc status=none
printf 'Apple_partition_map' | dd of="$MAC" bs=1 seek=560 conv=notrunc status=none
bad_table="kvmload-fs: $MAC: partition table type 'mac' is not supported
kvmload-fs: $MAC: cannot read its partitions: Invalid argument"
# readers TRACE IMAGE MESSAGE: who read IMAGE, and who wrote MESSAGE to stderr, in strace -f -y output
# TRACE (its first line the owner's execve); a reader is a process that became kvmload (setresuid).
readers() {
	awk -v img="<$2>" -v msg="$3" -v u="$(id -u kvmload)" '
		NR == 1 { owner = $1 }
		$0 ~ "setresuid\\(" u ", " u ", " u "\\) += 0" { reader[$1] = 1 }
		index($0, img) && $2 ~ /^(read|pread64|lseek|readv|preadv|preadv2)\(/ {
			c = $2; sub(/\(.*/, "", c)
			if ($1 == owner) { if (c == "pread64" && $0 ~ /, 1024, 0\) += /) head = 1; else more = more " " c }
			else if (reader[$1]) got = 1
			else other = other " " $1
		}
		msg != "" && $2 ~ /^write\(2/ && index($0, msg) { said = $1 == owner ? "the owner" : reader[$1] ? "the reader" : "another process" }
		END {
			print "the owner reads: " (head ? "its first KiB" : "nothing") (more ? ", and" more : "")
			print "the reader (" u ") reads: " (got ? "the rest" : "nothing") (other ? "; and processes" other : "")
			if (msg != "") print "the message from: " said
		}' "$1"
}
if command -v strace > /dev/null; then
	# A sanitizer build's LeakSanitizer cannot run under ptrace.
	lsan_off=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	ASAN_OPTIONS=$lsan_off strace -f -qq -y -s 256 -o "$T/trace" -e trace=execve,setresuid,read,pread64,lseek,readv,preadv,preadv2,write \
		"$FS" -f --disk "$MAC" "$MNT" 2> "$T/err" < /dev/null > /dev/null
	check "a bad table, mounting: status" 65 $?
	check "a bad table, mounting: message" "$bad_table" "$(cat "$T/err")"
	if mounted "$MNT"; then bad "a bad table, mounting: mounted"; fusermount3 -u -z "$MNT"; else ok; fi
	check "a bad table, mounting: who reads what" "the owner reads: its first KiB
the reader ($(id -u kvmload)) reads: the rest
the message from: the reader" "$(readers "$T/trace" "$MAC" "not supported")"
	# --list: opened as root, read and printed by a child that became kvmload
	out=$(ASAN_OPTIONS=$lsan_off strace -f -qq -y -o "$T/trace" -e trace=execve,setresuid,read,pread64,lseek,readv,preadv,preadv2 \
		"$FS" --list --disk "$T/ufs.img" 2> "$T/err")
	check "--list: status" 0 $?
	match "--list: the table" "*disk0 * none * ufs2 *" "$out"
	check "--list: who reads what" "the owner reads: its first KiB
the reader ($(id -u kvmload)) reads: the rest" "$(readers "$T/trace" "$T/ufs.img" "")"
else
	skip_part "no strace: who reads the disks is not checked"
fi
# Background mode: the caller gets the server's status; nothing stays mounted.
"$FS" --disk "$MAC" "$MNT" 2> "$T/err" < /dev/null > /dev/null
check "a bad table, in the background: status" 65 $?
check "a bad table, in the background: message" "$bad_table" "$(cat "$T/err")"
if mounted "$MNT"; then bad "a bad table, in the background: mounted"; fusermount3 -u -z "$MNT"; else ok; fi
# --list: the reader's status is the caller's.
check "--list of a bad table: status" 65 "$("$FS" --list --disk "$MAC" > /dev/null 2>&1; echo $?)"

# ---- without privilege (nobody, its own mount point): nothing to drop, the same confinement
mkdir -p "$NBMNT"
chown 65534:65534 "$T/nb" "$NBMNT"
AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
as_nobody() { "${AS[@]}" "$@"; }
start "$NBMNT" --disk "$T/ufs.img"
confined "the server without privilege" "$SERVER" "$NB"
check "the owner without privilege" "Uid:	65534	65534	65534	65534" "$(grep '^Uid:' "/proc/$OWNER/status")"
check "reads without privilege" "hello from the guest" "$(as_nobody cat "$NBMNT/disk0/etc/motd" 2>&1)"
stopped "without privilege: SIGTERM" "$NBMNT"
out=$(as_nobody "$FS" --user kvmload --disk "$T/ufs.img" "$NBMNT" 2>&1)
check "--user as $NB: status" 64 $?
check "--user as $NB: message" "kvmload-fs: --user kvmload: only root can run as another user" "$out"
lib_done
