#!/bin/sh
# run_replay.sh: replays a fuzz target's regress inputs and a freshly made seed corpus through its libFuzzer-free build (gcc, and the ASan build).
# usage: run_replay.sh REPLAY NAME SEED-ARGS...
set -u
replay=$1 name=$2
shift 2
here=$(dirname "$0")
T=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-replay.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$here/mkseeds.sh" "$name" "$T/seeds" "$@" || exit $?
"$replay" "$here/regress/$name" "$T/seeds"
