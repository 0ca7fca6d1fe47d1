#!/bin/bash
# run_replay.sh: replays a fuzz target's regress inputs and a freshly made seed corpus through its libFuzzer-free build (gcc, and the ASan build).
# usage: run_replay.sh REPLAY NAME SEED-ARGS...
. "$(dirname "$0")/../lib.sh"
replay=$1 name=$2
shift 2
here=$(dirname "$0")
T=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-replay.XXXXXX")
on_exit 'rm -rf "$T"'
"$here/mkseeds.sh" "$name" "$T/seeds" "$@" || exit $?
if "$replay" "$here/regress/$name" "$T/seeds"; then ok
else bad "replay_$name: an input crashed, or there was none to replay (above)"; fi
lib_done
