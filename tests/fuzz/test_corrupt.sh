#!/bin/bash
# test_corrupt.sh: the corruption suite, in-process: 1,000 seeded mutations of UFS1/UFS2/GPT/MBR images, each probed and walked twice by the corrupt driver.
# At least 60% of the mutated images must be walked (a file system opened), not refused by the
# probe or at open: mutations every image refused would test nothing past the superblock.
# Seed 20261123 walks 922 of 1,000 (92%); other seeds 90-92%.
# usage: test_corrupt.sh CORRUPT MKDISKLABEL [SEED [COUNT]]
. "$(dirname "$0")/../lib.sh"
corrupt=$1 mklabel=$2 seed=${3:-20261123} count=${4:-1000}
T=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-corrupt.XXXXXX")
scratch_dir "$T"
"$(dirname "$0")/mkbases.sh" "$T" "$mklabel" || exit $?
if "$corrupt" --min-walked 60 "$seed" "$count" "$T/ufs1.img" "$T/ufs2.img" "$T/ufs2be.img" \
	"$T/gpt.img" "$T/mbr.img"; then ok
else bad "corrupt: a contract violation, a hang, or too few images walked (above)"; fi
lib_done
