#!/bin/bash
# run_replay.sh: replays a fuzz target's regress inputs and a freshly made seed corpus through its libFuzzer-free build (gcc, and the ASan build).
# usage: run_replay.sh REPLAY NAME SEED-ARGS...
. "$(dirname "$0")/../lib.sh"
replay=$1 name=$2
shift 2
here=$(dirname "$0")
T=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-replay.XXXXXX")
scratch_dir "$T"
"$here/mkseeds.sh" "$name" "$T/seeds" "$@"
rc=$?
# Seeds that cannot be made here (fuzz_zfs's need root and zfs-fuse): the regress inputs still replay.
if [ $rc -eq 77 ]; then
	skip_part "no seed corpus for $name here: replaying tests/fuzz/regress/$name only"
	mkdir -p "$T/seeds"
elif [ $rc -ne 0 ]; then
	exit $rc
fi
if "$replay" "$here/regress/$name" "$T/seeds"; then ok
else bad "replay_$name: an input crashed, or there was none to replay (above)"; fi
lib_done
