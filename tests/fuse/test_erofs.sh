#!/bin/bash
# test_erofs.sh: who answers EROFS to each write-type operation on kvmload-fs: the kernel on the ro mount (the daemon sees none of them), the daemon once root lifts the kernel's ro flag with mount -i -o remount,rw.
# usage: test_erofs.sh KVMLOAD_FS UFSPATCH
. "$(dirname "$0")/../lib.sh"
FS=$1
UFSPATCH=$2
OPS=$(dirname "$0")/write_ops.py
need_root
need_fuse
need_tools makefs fusermount3 python3 mount

T=$(mktemp -d /tmp/kvmload-fs-erofs.XXXXXX)
MNT=$T/mnt
DPID=
scratch_dir "$T"
on_exit '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null'
on_exit 'grep -q " $MNT fuse" /proc/mounts && fusermount3 -u -z "$MNT"'

# ---- a UFS2 disk and a host tree holding the same files
S=$T/src
mkdir -p $S/etc $S/empty
echo 'hello from the guest' > $S/etc/motd
echo 'the copy source' > $S/etc/other
makefs -t ffs -o version=2 -s 4m $T/disk.img $S > /dev/null || exit 1
$UFSPATCH $T/disk.img sb volname guest || exit 1  # by-label/guest
cp -a $S $T/host
sums() { sha256sum $T/disk.img; (cd $T/host && find . -printf '%p %y %m %U %G %s %T@\n' | sort); }
BEFORE=$(sums)
mkdir $MNT

# The requests the daemon was sent that would change something, one name a line (libfuse -o debug).
WRITE_OPCODES='^(SETATTR|MKNOD|MKDIR|UNLINK|RMDIR|SYMLINK|RENAME|RENAME2|LINK|WRITE|CREATE|TMPFILE|SETXATTR|REMOVEXATTR|FALLOCATE|COPY_FILE_RANGE|COPY_FILE_RANGE_64)$'
sent() { # sent LOG [REGEX]: the opcodes in LOG matching REGEX, sorted and unique
	grep -o 'opcode: [A-Z_0-9]*' "$1" | awk '{ print $2 }' | grep -E "${2:-$WRITE_OPCODES}" | sort -u
}
start() { # start LOG: mount the view in the foreground with libfuse's request log
	$FS -f -o debug --ready-fd 3 --disk $T/disk.img --host $T/host $MNT 3> $T/ready 2> "$1" &
	DPID=$!
	read -r -n 1 -t 30 < $T/ready || { echo "kvmload-fs did not start: $(cat "$1")" >&2; exit 1; }
}
stop() { # stop DESCRIPTION LOG
	fusermount3 -u $MNT; check "$1: unmounted" 0 $?
	wait $DPID; check "$1: daemon exit status" 0 $?
	DPID=
	# Besides libfuse's log: a message of ours, or a sanitizer's report.
	check "$1: nothing else on the daemon's stderr" "" "$(grep -E '^kvmload-fs:|Sanitizer|runtime error:' "$2")"
}
expect() { # expect RESULT OP...: one "OP RESULT" line per OP
	local r=$1; shift
	for op in "$@"; do echo "$op $r"; done
}
mkfifo $T/ready

PATH_OPS="create create-excl mknod mkfifo mkdir rmdir symlink link unlink rename rename-noreplace
	chmod chown utimes setxattr removexattr"
# Opens for writing first: they must not follow a read open (see write_ops.py).
FILE_OPS="open-wronly open-rdwr open-trunc write fallocate copy_file_range truncate"

# ---- ro: every operation fails with EROFS, and no write-type request (nor any open) reaches the daemon
start $T/ro.log
for d in disk0 host0; do
	out=$(python3 $OPS $MNT/$d $MNT/$d/etc/motd $MNT/$d/etc/motd $MNT/$d/etc/other $MNT/$d/empty $FILE_OPS $PATH_OPS)
	check "ro $d: every operation fails with EROFS" "$(expect EROFS $FILE_OPS $PATH_OPS)" "$out"
done
# The view's root holds directories and by-label links, no regular file.
out=$(python3 $OPS $MNT $MNT/by-label/guest - - $MNT/by-label $PATH_OPS)
check "ro root: every operation fails with EROFS" "$(expect EROFS $PATH_OPS)" "$out"
check "ro: the kernel answered, the daemon was sent none of them" "" "$(sent $T/ro.log "$WRITE_OPCODES|^OPEN$")"
check "ro: still intact" "hello from the guest" "$(cat $MNT/disk0/etc/motd)"
stop "ro" $T/ro.log

# ---- rw behind kvmload-fs's back: mount -i skips mount.fuse3 (which would run kvmload-fs,
# which refuses) and lifts the kernel's ro flag; the daemon itself answers EROFS.
start $T/rw.log
if mount -i -o remount,rw $MNT 2> $T/remount.err &&
	[ "$(awk -v m=$MNT '$2 == m { split($4, o, ","); print o[1] }' /proc/mounts)" = rw ]; then
	# The first open of the mount is a write open: the daemon refuses it.  Then a read open,
	# which the kernel stops sending once the daemon answers it ENOSYS (zero-message opens):
	# from then on write opens succeed, and what is done with them reaches the daemon.
	f=$MNT/disk0/etc/motd
	check "rw: the first write open is refused by the daemon" "open-wronly EROFS
read ok" "$(python3 $OPS $MNT/disk0 $f $f - - open-wronly read)"
	RW_OPS="write fallocate copy_file_range truncate open-trunc $PATH_OPS"
	for d in disk0 host0; do
		f=$MNT/$d/etc/motd
		out=$(python3 $OPS $MNT/$d $f $f $MNT/$d/etc/other $MNT/$d/empty $RW_OPS)
		check "rw $d: the daemon answers EROFS" "$(expect EROFS $RW_OPS)" "$out"
	done
	echo "rw: write-type requests the daemon was sent: $(sent $T/rw.log | tr '\n' ' ')"
	check "rw: they reached the daemon" "yes" "$([ -n "$(sent $T/rw.log)" ] && echo yes)"
	check "rw: still intact" "hello from the guest" "$(cat $MNT/disk0/etc/motd)"
else
	echo "mount -i -o remount,rw did not make the mount rw ($(cat $T/remount.err)): the daemon's own EROFS replies not tried"
fi
stop "rw" $T/rw.log

check "disk image and host tree unchanged" "$BEFORE" "$(sums)"

lib_done
