#!/bin/bash
# test_zfs_pools.sh: kvmload-fs's ZFS view against the trees its pools were made from. The pools
# are written by zfs-fuse (mkpools.sh: pool version 23, file system version 4): one disk with
# gzip, lzjb and zle children, a snapshot and a bootfs; a mirror, whole and by halves; raidz1
# and raidz2, whole and with a member missing; all of them at once.
# usage: test_zfs_pools.sh KVMLOAD_FS
#
# The view: zfs/POOL is the pool's root dataset, a child dataset a directory in its parent's,
# a snapshot POOL/ds@s is zfs/POOL/ds/.zfs/snapshot/s (.zfs looked up, never listed); each
# member disk node (disk0, ...) shows the pool's bootfs dataset (the root dataset when unset);
# by-label/POOL -> ../zfs/POOL.
# shellcheck disable=SC2016 # on_exit takes code, expanded when it runs
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
FS=$1
HERE=$(cd "$(dirname "$0")" && pwd)

need_root
need_fuse
need_tools fusermount3 sha256sum cmp dd

T=$(mktemp -d /tmp/kvmload-zfs-test.XXXXXX)
P=$T/pools E=$T/pools/expect MNT=$T/mnt
# shellcheck disable=SC2034 # PIDS and DONE: read by the on_exit commands
PIDS='' DONE=''
on_exit 'if [ -n "$DONE" ]; then rm -rf "$T"; else echo "work directory kept: $T" >&2; fi'
on_exit 'for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done'
on_exit 'grep -q " $MNT fuse" /proc/mounts && fusermount3 -u -z "$MNT"'

# ---- the pools
"$HERE/mkpools.sh" "$P" > "$T/mkpools.out" 2>&1; rc=$?
cat "$T/mkpools.out"
case $rc in
0) ;;
77) DONE=1; skip "$(sed -n 's/^SKIP: //p' "$T/mkpools.out")" ;;
*) bad "mkpools.sh failed (status $rc)"; exit 1 ;;
esac
PREC=$(cat "$E/precision")
mapfile -t POOLS < "$E/POOLS"
sha256sum "$P"/*.img > "$T/sums"
mkdir "$MNT"

# ---- comparing a directory of the view with the tree it was made from
# (meant for other pools too: FreeBSD's makefs, a guest's OpenZFS; give the tree, the precision
# of the pool's times and the exceptions)

# check_list DESC WANT GOT: check for long texts: on a difference, its first 40 lines
check_list() {
	if [ "$2" = "$3" ]; then ok; else
		bad "$1 ($(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | grep -c '^[<>]') lines differ; < tree, > view)"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | grep '^[<>]' | head -40 | sed 's/^/  /' >&2
	fi
}

# prune PATH...: find arguments leaving out each PATH (relative to the start) and what is below
prune() {
	PRUNE=()
	local p
	for p; do PRUNE+=(-path "./$p" -prune -o); done
}

# tree_list DIR PREC [PATH...]: a line for DIR and one for each entry below it, PATHs left out:
# path, type, mode (with setuid, setgid, sticky), uid, gid, links, size, mtime, device
# major:minor, link target. No size for directories (ZFS counts entries, the host bytes); no
# links for DIR itself (child datasets add theirs). PREC ns: mtimes to the nanosecond; s: the
# seconds (rounded down, as a timespec is) and .000000000, what a pool keeping seconds shows.
tree_list() {
	local d=$1 prec=$2
	shift 2
	prune "$@"
	(
		cd "$d" || exit 1
		find . "${PRUNE[@]}" -type l -printf 'L\t%P\t%l\n'
		find . "${PRUNE[@]}" -printf '%p\0' |
			xargs -0 stat --printf 'S\t%n\t%F\t%a\t%u\t%g\t%h\t%s\t%.9Y\t%t:%T\n'
	) | awk -F '\t' -v OFS='\t' -v prec="$prec" '
		$1 == "L" { target[$2] = $3; next }
		{
			p = substr($2, 3)   # stat named it ./PATH
			if ($3 == "directory") $8 = "-"
			if (p == "") $7 = "-"
			if (prec == "s") {
				s = $9; f = s; sub(/\..*/, "", s); sub(/^[^.]*\./, "", f)
				if (s ~ /^-/ && f ~ /[1-9]/) s = sprintf("%d", s - 1)
				$9 = s ".000000000"
			}
			print p, $3, $4, $5, $6, $7, $8, $9, $10, (p in target) ? target[p] : ""
		}' | sort
}

# tree_links DIR [PATH...]: the names of each file with more than one, a line per file
tree_links() {
	local d=$1
	shift
	prune "$@"
	(cd "$d" && find . "${PRUNE[@]}" ! -type d -links +1 -printf '%i\t%P\n') | sort -t "$(printf '\t')" -k2 |
		awk -F '\t' '{ g[$1] = g[$1] " " $2 } END { for (i in g) print substr(g[i], 2) }' | sort
}

# tree_sums DIR [PATH...]: sha256 of each regular file (cached for trees: they do not change)
tree_sums() {
	local d=$1 key
	shift
	prune "$@"
	key=$T/sums.$(printf '%s\n' "$d" "$@" | sha256sum | cut -c1-16)
	case $d in "$MNT"/*) key= ;; esac
	if [ -n "$key" ] && [ -f "$key" ]; then cat "$key"; return; fi
	(cd "$d" && find . "${PRUNE[@]}" -type f -printf '%P\0' | sort -z | xargs -0 -r sha256sum) |
		if [ -n "$key" ]; then tee "$key"; else cat; fi
}

# check_pieces DESC WANT-FILE GOT-FILE: reads at offsets that cross record (128 KiB) and
# indirect block (128 MiB of data) boundaries, and past the end
check_pieces() {
	local desc=$1 want=$2 got=$3 size r off len w g
	size=$(stat -c %s "$want")
	for r in 0:4096 4000:200 131071:2 131072:131072 1060000:300000 $((size / 2 - 7)):65536 \
		134216728:3000 134217727:2 $((size - 4096)):4096 $((size - 100)):100 $((size - 1)):10; do
		off=${r%:*} len=${r#*:}
		if [ "$off" -lt 0 ] || [ "$off" -ge "$size" ]; then continue; fi
		w=$(dd if="$want" bs=64K iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none | sha256sum)
		g=$(dd if="$got" bs=64K iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none | sha256sum)
		check "$desc: $len bytes at $off" "$w" "$g"
	done
}

# compare_tree DESC TREE DIR PREC [skip=NAME | omit=PATH]...: DIR shows TREE: names, types,
# modes, owners, links, sizes, mtimes (at PREC, see tree_list), device numbers, link targets,
# which names share a file, file contents (and files over 1 MiB in pieces). skip=NAME: a
# top-level entry of DIR not in TREE (a child dataset); omit=PATH: an entry of TREE not in DIR.
compare_tree() {
	local desc=$1 tree=$2 dir=$3 prec=$4 o skips=() omits=() want got f
	shift 4
	for o; do
		case $o in
		skip=*) skips+=("${o#skip=}") ;;
		omit=*) omits+=("${o#omit=}") ;;
		*) bad "compare_tree: $o?"; return ;;
		esac
	done
	if [ ! -d "$dir" ]; then bad "$desc: $dir is not a directory"; return; fi
	check_list "$desc: entries and attributes" "$(tree_list "$tree" "$prec" "${omits[@]}")" \
		"$(tree_list "$dir" ns "${skips[@]}")"
	check_list "$desc: hard links" "$(tree_links "$tree" "${omits[@]}")" "$(tree_links "$dir" "${skips[@]}")"
	want=$(tree_sums "$tree" "${omits[@]}")
	got=$(tree_sums "$dir" "${skips[@]}")
	if [ "$want" = "$got" ]; then ok; else
		bad "$desc: file contents differ"
		diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed -n 's/^[<>] [0-9a-f]*  //p' |
			sort -u | head -5 | while IFS= read -r f; do
				echo "  $f: $(cmp "$tree/$f" "$dir/$f" 2>&1)" >&2
			done
	fi
	prune "${omits[@]}"
	(cd "$tree" && find . "${PRUNE[@]}" -type f -size +1M -printf '%P\n') | sort > "$T/pieces"
	while IFS= read -r f; do check_pieces "$desc: $f" "$tree/$f" "$dir/$f"; done < "$T/pieces"
}

# ---- the view
# ds_path DATASET: where the view shows a dataset (POOL/a) or a snapshot (POOL/a@s)
ds_path() {
	case $1 in
	*@*) echo "$MNT/zfs/${1%@*}/.zfs/snapshot/${1#*@}" ;;
	*) echo "$MNT/zfs/$1" ;;
	esac
}
# compare_datasets POOL [DATASET]: each dataset of POOL (or the one) against its tree
compare_datasets() {
	local ds tree opts
	# shellcheck disable=SC2086 # opts: words
	while read -r ds tree opts; do
		[ $# -lt 2 ] || [ "$ds" = "$2" ] || continue
		compare_tree "$1: $ds" "$P/$tree" "$(ds_path "$ds")" "$PREC" $opts
	done < "$E/$1.datasets"
}
# bootfs_line POOL: the datasets line of what its disk nodes show
bootfs_line() { awk -v d="$(cat "$E/$1.bootfs")" '$1 == d' "$E/$1.datasets"; }

# mount_view LOG IMAGE...: kvmload-fs -f on $MNT with these disks, its stderr in LOG
DPID=
mount_view() {
	local log=$1 img args=()
	shift
	for img; do args+=(--disk "$img"); done
	rm -f "$T/ready"
	mkfifo "$T/ready"
	"$FS" -f --ready-fd 3 "${args[@]}" "$MNT" 3> "$T/ready" 2> "$log" &
	DPID=$!
	PIDS=$DPID
	read -r -n 1 -t 60 < "$T/ready" && return 0
	bad "kvmload-fs ${args[*]} did not come up: $(cat "$log")"
	kill "$DPID" 2> /dev/null
	wait "$DPID" 2> /dev/null
	PIDS='' DPID=''
	return 1
}
# umount_view DESC [LOG]: unmount; the daemon exits 0 (and, given LOG, said nothing)
umount_view() {
	fusermount3 -u "$MNT"
	check "$1: fusermount3 -u" 0 $?
	wait "$DPID"
	check "$1: daemon exit status" 0 $?
	# shellcheck disable=SC2034 # PIDS: read by an on_exit command
	PIDS='' DPID=''
	[ $# -lt 2 ] || check "$1: daemon stderr" "" "$(cat "$2")"
}

# erofs DESC CMD...: the command fails with EROFS
erofs() {
	local desc=$1 out
	shift
	out=$("$@" 2>&1) && { bad "$desc succeeded"; return; }
	case $out in *"Read-only file system"*) ok ;; *) bad "$desc: $out" ;; esac
}

# walk DESC DIR: find goes through DIR without a complaint (a loop, an unreadable directory)
walk() {
	find "$2" -xdev > /dev/null 2> "$T/find.err"
	check "$1: find -xdev status" 0 $?
	check "$1: find -xdev complaints" "" "$(cat "$T/find.err")"
}

# ---- each pool alone, all its disks
for pool in "${POOLS[@]}"; do
	mapfile -t disks < "$E/$pool.disks"
	args=()
	for d in "${disks[@]}"; do args+=(--disk "$d"); done

	# --list: the pool, its vdevs (path or guid), its datasets
	out=$("$FS" --list "${args[@]}" 2> "$T/list.err")
	check "$pool: --list exit status" 0 $?
	check "$pool: --list stderr" "" "$(cat "$T/list.err")"
	guid=$(cat "$E/$pool.guid")
	case $out in
	*"$guid"* | *"$(printf '%x' "$guid")"* | *"$(printf '%X' "$guid")"*) ok ;;
	*) bad "$pool: --list does not show the pool guid $guid: $out" ;;
	esac
	while read -r ds _; do
		case $ds in *@*) continue ;; esac
		match "$pool: --list shows $ds" "*$ds*" "$out"
	done < "$E/$pool.datasets"
	while read -r img vguid; do
		case $out in
		*"$img"* | *"$vguid"* | *"$(printf '%x' "$vguid")"*) ok ;;
		*) bad "$pool: --list shows neither the path nor the guid of $img ($vguid)" ;;
		esac
	done < "$E/$pool.vdevs"

	mount_view "$T/$pool.err" "${disks[@]}" || continue
	want=by-label
	for i in "${!disks[@]}"; do want="$want disk$i"; done
	# shellcheck disable=SC2012 # plain names
	check "$pool: top level" "$want zfs" "$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
	check "$pool: zfs/" "$pool" "$(ls "$MNT/zfs")"
	check "$pool: by-label" "$pool -> ../zfs/$pool" "$(cd "$MNT/by-label" && for l in *; do echo "$l -> $(readlink "$l")"; done)"
	compare_datasets "$pool"
	# The disk nodes: the bootfs dataset, in full on the first, its listing on the others
	read -r ds tree opts <<< "$(bootfs_line "$pool")"
	# shellcheck disable=SC2086 # opts: words
	compare_tree "$pool: disk0 (= $ds)" "$P/$tree" "$MNT/disk0" "$PREC" $opts
	for i in "${!disks[@]}"; do
		[ "$i" = 0 ] && continue
		check "$pool: disk$i shows $ds" "$(ls -A "$(ds_path "$ds")")" "$(ls -A "$MNT/disk$i")"
	done
	walk "$pool" "$MNT"

	if [ "$pool" = single ]; then
		S=$MNT/zfs/single
		# snapshots: .zfs is not listed, but there
		check "single/gz: .zfs not listed" "" "$(cd "$S/gz" && for f in .* *; do [ "$f" != .zfs ] || echo "$f"; done)"
		check "single/gz/.zfs" "directory snapshot" "$(stat -c %F "$S/gz/.zfs") $(ls "$S/gz/.zfs")"
		check "single/gz/.zfs/snapshot" "snap1" "$(ls "$S/gz/.zfs/snapshot")"
		check "single/gz@snap1 keeps text/motd" "hello from the zfs guest" "$(cat "$S/gz/.zfs/snapshot/snap1/text/motd")"
		check "single/gz: text/motd since" "changed after snap1" "$(cat "$S/gz/text/motd")"
		check "single/gz: links/hard_a: 2 names now, 3 in snap1" "2 3" \
			"$(stat -c %h "$S/gz/links/hard_a" "$S/gz/.zfs/snapshot/snap1/links/hard_a" | tr '\n' ' ' | sed 's/ $//')"
		walk "single/gz@snap1" "$S/gz/.zfs/snapshot/snap1"
		# mtimes zfs-fuse wrote with their nanoseconds
		while read -r f t; do check "$f: mtime" "$t" "$(stat -c %.9Y "$MNT/zfs/$f")"; done < "$E/fresh"
		# Inode numbers: one file per dataset, one per name of a hard link, none shared across
		# datasets (find, du, tar and cp take same st_dev and st_ino for one file)
		inos=("$S" "$S/gz" "$S/lzjb" "$S/zle" "$S/fresh" "$S/gz/.zfs/snapshot/snap1"
			"$S/text/motd" "$S/gz/text/motd" "$S/lzjb/text/motd" "$S/zle/text/motd"
			"$S/gz/.zfs/snapshot/snap1/text/motd" "$S/fresh/a"
			"$S/links/hard_a" "$S/gz/links/hard_a" "$S/lzjb/links/hard_a" "$S/zle/links/hard_a"
			"$S/gz/.zfs/snapshot/snap1/links/hard_a")
		stat -c '%i %n' "${inos[@]}" > "$T/inos"
		check "single: inodes differ across datasets and snapshots" "${#inos[@]}" "$(cut -d' ' -f1 "$T/inos" | sort -u | wc -l)"
		check "single: a hard link's names share an inode" \
			"$(stat -c %i "$S/links/hard_a") $(stat -c %i "$S/links/hard_a")" \
			"$(stat -c %i "$S/links/hard_b") $(stat -c %i "$S/deep/d01/hard_c")"
		# read-only everywhere
		for d in "$S" "$S/gz" "$S/gz/.zfs/snapshot/snap1" "$MNT/disk0"; do
			erofs "$d: touch new" touch "$d/newfile"
			erofs "$d: touch existing" touch "$d/text/motd"
			erofs "$d: mkdir" mkdir "$d/newdir"
			erofs "$d: rm" rm -f "$d/text/motd"
			erofs "$d: mv" mv "$d/text/motd" "$d/moved"
			erofs "$d: ln" ln "$d/text/motd" "$d/hardlink"
			erofs "$d: ln -s" ln -s x "$d/symlink"
			erofs "$d: chmod" chmod 777 "$d/text/motd"
			erofs "$d: chown" chown -h 5:5 "$d/text/motd"
			erofs "$d: truncate" truncate -s 0 "$d/text/motd"
			erofs "$d: append" sh -c "echo x >> '$d/text/motd'"
			erofs "$d: mkfifo" mkfifo "$d/fifo"
		done
		erofs "mkdir in .zfs/snapshot (a snapshot)" mkdir "$S/gz/.zfs/snapshot/snap2"
		erofs "rmdir a snapshot" rmdir "$S/gz/.zfs/snapshot/snap1"
		erofs "mkdir in zfs/ (a pool)" mkdir "$MNT/zfs/newpool"
		check "single: still intact" "changed after snap1" "$(cat "$S/gz/text/motd")"
	fi
	umount_view "$pool" "$T/$pool.err"
done

# ---- inode numbers stay across mounts
mapfile -t disks < "$E/single.disks"
if [ -s "$T/inos" ] && mount_view "$T/single2.err" "${disks[@]}"; then
	check "single: inodes on a second mount" "$(cat "$T/inos")" "$(stat -c '%i %n' "${inos[@]}")"
	umount_view "single, second mount" "$T/single2.err"
fi

# ---- a mirror from either half alone: all of it
while read -r img _; do
	if mount_view "$T/half.err" "$img"; then
		compare_datasets mir
		check "mir from ${img##*/}: disk0" "$(ls -A "$MNT/zfs/mir")" "$(ls -A "$MNT/disk0")"
		umount_view "mir from ${img##*/}"
	fi
done < "$E/mir.vdevs"

# ---- raidz with a member missing: not shown, and the member named
for pool in "${POOLS[@]}"; do
	case $(cat "$E/$pool.layout") in raidz*) ;; *) continue ;; esac
	mapfile -t disks < "$E/$pool.disks"
	read -r gone gguid <<< "$(tail -n 1 "$E/$pool.vdevs")"
	mount_view "$T/$pool.missing.err" "${disks[@]:0:${#disks[@]}-1}" || continue
	check "$pool without ${gone##*/}: not shown" "no no" \
		"$([ -e "$MNT/zfs/$pool" ] && echo yes || echo no) $([ -e "$MNT/by-label/$pool" ] && echo yes || echo no)"
	case $(cat "$T/$pool.missing.err") in
	*"$gone"* | *"$gguid"* | *"$(printf '%x' "$gguid")"*) ok ;;
	*) bad "$pool without ${gone##*/}: stderr names neither it nor its guid $gguid: $(cat "$T/$pool.missing.err")" ;;
	esac
	umount_view "$pool without ${gone##*/}"
done

# ---- every pool at once: each disk node shows its own pool's
all=() owner=()
for pool in "${POOLS[@]}"; do
	mapfile -t disks < "$E/$pool.disks"
	for d in "${disks[@]}"; do all+=("$d"); owner+=("$pool"); done
done
if mount_view "$T/all.err" "${all[@]}"; then
	check "all: zfs/" "$(printf '%s\n' "${POOLS[@]}" | sort)" "$(ls "$MNT/zfs")"
	check "all: by-label" "$(for p in $(printf '%s\n' "${POOLS[@]}" | sort); do echo "$p -> ../zfs/$p"; done)" \
		"$(cd "$MNT/by-label" && for l in *; do echo "$l -> $(readlink "$l")"; done)"
	for i in "${!all[@]}"; do
		read -r ds _ <<< "$(bootfs_line "${owner[$i]}")"
		check "all: disk$i (${all[$i]##*/}) shows $ds" "$(ls -A "$(ds_path "$ds")")" "$(ls -A "$MNT/disk$i")"
	done
	compare_datasets single single/gz@snap1
	walk "all" "$MNT"
	umount_view "all" "$T/all.err"
fi

check "disk images unchanged" "" "$(sha256sum --quiet -c "$T/sums" 2>&1)"
# shellcheck disable=SC2034 # read by an on_exit command
[ "$FAILED" -eq 0 ] && DONE=1
lib_done
