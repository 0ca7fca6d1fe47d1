#!/bin/bash
# test_corrupt_zfs.sh: the ZFS corruption suite, in-process: seeded mutations of three zfs-fuse pools (one disk, a mirror, a raidz1) at the bytes the reader reads, walked twice each by the corrupt_zfs driver.
# Even rounds verify every checksum: the reader must then show only what the intact pool holds (a
# damaged block is an error, never other bytes).  Odd rounds are "forged": block checksums are
# not verified and labels and uberblocks are checksummed again after the damage, as a hostile
# image would be; the reader must only never crash, hang or break its errno contract.
# Floors (of each kind of round): pools walked (a dataset opened) and pools whose walk reached at
# least half the intact pool's entries.  Seed 20261207, 1,000 mutations: see doc/fuzzing.md.
# usage: test_corrupt_zfs.sh CORRUPT_ZFS [SEED [COUNT]]
. "$(dirname "$0")/../lib.sh"
corrupt=$1 seed=${2:-20261207} count=${3:-1000}
T=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-corrupt-zfs.XXXXXX")
scratch_dir "$T"
"$(dirname "$0")/mkzfspools.sh" "$T" > "$T/pools.log" 2>&1
rc=$?
[ $rc -eq 77 ] && skip "$(tail -n 1 "$T/pools.log" | sed "s/^SKIP: //")"
[ $rc -eq 0 ] || { cat "$T/pools.log"; bad "mkzfspools.sh failed ($rc)"; exit 1; }
if "$corrupt" --min-walked 95,50 --min-reached 90,45 "$seed" "$count" "$T/single.img" \
	"$T/mir-a.img,$T/mir-b.img" "$T/rz-a.img,$T/rz-b.img,$T/rz-c.img"; then ok
else bad "corrupt_zfs: a contract violation, a wrong answer, a hang, or too few pools walked (above)"; fi
lib_done
