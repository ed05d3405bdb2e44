#!/bin/sh
# b_engine: the decision engine's cost per packet, in memory, for a policy
# of 1,000 port rules and for the same plus 10 filter rules, next to a bare
# 64K-table lookup loop over the same pre-parsed packets, measured in the
# same run (build/tools/bench_engine).  Goals for the port-only policy:
# <= 50 ns per decision and <= 2x the bare loop.
#
# BENCH_ENGINE_M=N sets millions of decisions per round (default 1) and
# BENCH_ENGINE_ROUNDS=N the rounds (default 20; the best round counts, so
# short rounds are less likely to be cut by another process).  The goals
# are reported, not enforced: timings on a shared machine are noisy.
set -eu

: "${BUILD:=build}"
BENCH=$BUILD/tools/bench_engine
if [ ! -x "$BENCH" ]; then
	echo "b_engine: $BENCH not built (make tools)" >&2
	exit 1
fi
exec "$BENCH" "${BENCH_ENGINE_M:-1}" "${BENCH_ENGINE_ROUNDS:-20}"
