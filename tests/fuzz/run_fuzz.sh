#!/bin/bash
# run_fuzz.sh: a short libFuzzer run of one target on seeds made now plus its regress inputs; any crash, leak or timeout fails and its input is kept.
# usage: run_fuzz.sh FUZZER NAME SECONDS SEED-ARGS...   ($KVMLOAD_FUZZ_SECONDS overrides SECONDS)
. "$(dirname "$0")/../lib.sh"
fuzzer=$1 name=$2 secs=${KVMLOAD_FUZZ_SECONDS:-$3}
shift 3
here=$(dirname "$0")
T=$(mktemp -d "${TMPDIR:-/tmp}/kvmload-fuzz.XXXXXX")
on_exit 'rm -rf "$T"'
keep=${KVMLOAD_BUILD:-$T}/tests/fuzz/artifacts/$name
mkdir -p "$T/corpus" "$keep"

"$here/mkseeds.sh" "$name" "$T/corpus" "$@" || exit $?
cp "$here/regress/$name/"* "$T/corpus/" 2>/dev/null
# -close_fd_mask=2: the reader's one log line per corrupt field would drown the
# run; libFuzzer and the sanitizers keep reporting on their own copy of stderr.
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
	-print_final_stats=1 -artifact_prefix="$keep/" "$T/corpus" > "$T/log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/log")
cov=$(grep -o 'cov: [0-9]*' "$T/log" | tail -n 1)
if [ $rc -ne 0 ]; then
	grep -v '^#[0-9]' "$T/log" | tail -n 60 >&2
	bad "fuzz_$name: crashed after ${execs:-?} executions; the input is in $keep/;" \
		"copy it to tests/fuzz/regress/$name/ once fixed"
elif [ "${execs:-0}" -gt 0 ]; then
	ok
	echo "fuzz_$name: $execs executions in $secs s, $cov, 0 crashes"
else
	bad "fuzz_$name: no execution in $secs s: $(tail -n 5 "$T/log")"
fi
lib_done
