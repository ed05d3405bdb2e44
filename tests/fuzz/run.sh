#!/bin/sh
# Runs each libFuzzer harness named for SECONDS, one at a time (usage:
# run.sh SECONDS HARNESS...).  The harnesses are in $FUZZ_B (build-fuzz).
# New inputs go to $FUZZ_B/corpus/<harness>/, findings to
# $FUZZ_B/crashes/<harness>/; the committed seeds in tests/fuzz/seeds/ and,
# for fuzz_replay, the shared capture corpus when present are read only.
# Prints one line per harness with its executions and exits non-zero when
# any harness found something.
set -u
: "${FUZZ_B:=build-fuzz}"
secs=$1
shift
cd "$(dirname "$0")/../.." || exit 1
shared=../shared/corpus/tcpdump
failed=0
for h in "$@"; do
	bin=$FUZZ_B/$h
	corpus=$FUZZ_B/corpus/$h
	crashes=$FUZZ_B/crashes/$h
	log=$FUZZ_B/logs/$h.log
	mkdir -p "$corpus" "$crashes" "$FUZZ_B/logs"
	extra=""
	if [ "$h" = fuzz_replay ] && [ -d "$shared" ]; then
		extra=$shared
	fi
	dict=""
	if [ -f tests/fuzz/"$h".dict ]; then
		dict=-dict=tests/fuzz/$h.dict
	fi
	# -close_fd_mask=3: the target's own output (replay's messages about
	# broken captures) would drown the log; libFuzzer and the sanitizers
	# still report on a duplicate of stderr.
	# shellcheck disable=SC2086
	# FUZZ_SEED (make fuzz-smoke sets it) makes short CI runs repeatable.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		${FUZZ_SEED:+-seed=$FUZZ_SEED} \
		-close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$crashes/" $dict \
		"$corpus" tests/fuzz/seeds/"$h" $extra >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		printf '%-14s ok    %s execs, %s exec/s, %ss\n' "$h" \
			"${runs:-?}" "${rate:-?}" "$secs"
	else
		failed=1
		printf '%-14s FOUND %s execs (exit %d); see %s and %s\n' "$h" \
			"${runs:-?}" "$rc" "$log" "$crashes"
		grep -m 3 -E 'ERROR|SUMMARY|Test unit written' \
			"$log" | sed 's/^/    /'
		# the harness's own check messages went to the closed stderr
		echo "    replay one: make fuzz-drivers && build/fuzz/$h FILE"
	fi
done
exit "$failed"
