#!/bin/bash
# test_corrupt_fuse.sh: the corruption suite, mounted: mutated images served by kvmload-fs and walked; the daemon never dies, bad data gives EIO, never a hang.
# At least 60% of the mutated images must be walked (a file system shown and read), not refused
# at start or shown with no file system: a suite that walked nothing would pass on any reader.
# Seed 777 walks 45 of 50 (90%); seeds 1-3 walk 45-46.
# usage: test_corrupt_fuse.sh KVMLOAD_FS CORRUPT MKDISKLABEL [SEED [COUNT]]
. "$(dirname "$0")/../lib.sh"
FS=$1 CORRUPT=$2 MKLABEL=$3 SEED=${4:-777} COUNT=${5:-50}
need_root
need_fuse
need_tools fusermount3

T=$(mktemp -d /tmp/kvmload-corrupt-fuse.XXXXXX)
MNT=$T/mnt
DPID=
scratch_dir "$T"
on_exit '[ -n "$DPID" ] && kill "$DPID" 2> /dev/null'
on_exit 'grep -q " $MNT fuse" /proc/mounts && fusermount3 -u -z "$MNT"'
CLEAN=0 EIO=0 EMPTY=0 REFUSED=0

"$(dirname "$0")/mkbases.sh" "$T/base" "$MKLABEL" || exit $?
mkdir "$T/mut" "$MNT"
"$CORRUPT" --write "$T/mut" "$SEED" "$COUNT" "$T"/base/{ufs1,ufs2,ufs2be,gpt,mbr}.img > "$T/corrupt.out" 2> /dev/null ||
	{ cat "$T/corrupt.out"; bad "the in-process walk of the mutated images failed"; }
# What a walk may report: EIO for bad data, ENOENT for an entry whose inode is free.
ALLOWED='(Input/output error|No such file or directory|Not a directory|File name too long)$'
SANITIZER='AddressSanitizer|LeakSanitizer|runtime error:'

for img in "$T"/mut/*; do
	name=${img##*/}
	rm -f "$T/ready"; mkfifo "$T/ready"
	"$FS" -f --ready-fd 3 --disk "$img" "$MNT" 3> "$T/ready" 2> "$T/daemon.err" &
	DPID=$!
	if ! read -r -n 1 -t 30 < "$T/ready"; then
		# It may refuse a disk whose partition table it cannot read, with a message and sysexits code.
		wait "$DPID"; rc=$?; DPID=
		if [ $rc -eq 65 ] || [ $rc -eq 74 ] && grep -q '^kvmload-fs: ' "$T/daemon.err" &&
			! grep -Eq "$SANITIZER" "$T/daemon.err"; then
			REFUSED=$((REFUSED + 1)); ok; continue
		fi
		bad "$name: kvmload-fs did not start (status $rc): $(head -c 2000 "$T/daemon.err")"
		continue
	fi
	# What the view shows besides by-label: the file systems it will serve.
	shown=$(find "$MNT" -mindepth 1 -maxdepth 1 ! -name by-label 2> /dev/null | wc -l)
	timeout 60 find "$MNT" -mindepth 1 \( -type f -exec cat -- {} + \) -o \
		\( -type l -exec readlink -- {} + \) > /dev/null 2> "$T/walk.err"
	rc=$?
	if [ $rc -eq 124 ]; then bad "$name: the walk hung (60 s)"
	elif grep -Evq "$ALLOWED" "$T/walk.err"; then bad "$name: walk errors: $(grep -Ev "$ALLOWED" "$T/walk.err" | head -n 5)"
	elif ! kill -0 "$DPID" 2> /dev/null || ! ls "$MNT" > /dev/null; then bad "$name: the daemon died"
	else
		ok
		if [ "$shown" -eq 0 ]; then EMPTY=$((EMPTY + 1))
		elif [ -s "$T/walk.err" ]; then EIO=$((EIO + 1))
		else CLEAN=$((CLEAN + 1)); fi
	fi
	fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"
	wait "$DPID"; rc=$?; DPID=
	[ $rc -eq 0 ] || bad "$name: kvmload-fs exit status $rc after unmount"
	grep -Eq "$SANITIZER" "$T/daemon.err" && bad "$name: sanitizer report: $(grep -E -A20 "$SANITIZER" "$T/daemon.err" | head -n 30)"
	grep -q " $MNT fuse" /proc/mounts && bad "$name: mount left behind"
done
tail -n 4 "$T/corrupt.out"
echo "$COUNT mutated images mounted: $CLEAN walked without error, $EIO with EIO (or ENOENT) on some entries, $EMPTY with no file system shown, $REFUSED refused at start"
walked=$((CLEAN + EIO))
echo "$walked of $COUNT mutated images walked ($((COUNT ? 100 * walked / COUNT : 0))%; at least 60% required)"
if [ "$COUNT" -gt 0 ] && [ $((100 * walked)) -ge $((60 * COUNT)) ]; then ok
else bad "$walked of $COUNT mutated images walked, under the floor of 60%"; fi
lib_done
