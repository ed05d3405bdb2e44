#!/bin/sh
# t_nfq_nft: contrib/portclass.nft is valid nftables.  `nft -c` checks it
# against the kernel inside a namespace.  On a kernel without
# CONFIG_NFT_QUEUE the queue rule alone fails with "No such file or
# directory": the test then checks that the rest loads with the queue rule
# replaced by `accept`, that the only failures are the queue rule's, and
# that nothing is a syntax error.  Skips without root or nft.
set -u
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (nft -c talks to the kernel)"; exit 77; }
command -v nft >/dev/null 2>&1 || { echo "skip: nft not installed"; exit 77; }
NS=pc-nft-$$
TMP=$(mktemp -d /tmp/pc-nft.XXXXXX)
trap 'ip netns del $NS 2>/dev/null; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ip netns add $NS || { echo "skip: cannot create a network namespace"; exit 77; }
F=contrib/portclass.nft

if ip netns exec $NS nft -c -f $F >"$TMP/out" 2>&1; then
	# Full support: load it for real, twice (idempotent), and look.
	ip netns exec $NS nft -f $F || fail "load"
	ip netns exec $NS nft -f $F || fail "second load"
	ip netns exec $NS nft list table inet portclass | grep -q 'queue' ||
		fail "no queue rule loaded"
	echo ok
	exit 0
fi
grep -q 'syntax error' "$TMP/out" && fail "syntax error: $(cat "$TMP/out")"
# Every error must be the queue statement's missing kernel support.
grep 'Error:' "$TMP/out" | grep -v 'Could not process rule: No such file or directory' &&
	fail "unexpected error: $(cat "$TMP/out")"
grep -A1 'Error:' "$TMP/out" | grep -v -e 'Error:' -e '^--$' | grep -vq 'queue' &&
	fail "an error outside the queue rule: $(cat "$TMP/out")"
sed 's/queue num .*$/accept/' $F >"$TMP/noqueue.nft"
ip netns exec $NS nft -c -f "$TMP/noqueue.nft" ||
	fail "the rest of the ruleset does not load"
echo "skip: kernel lacks CONFIG_NFT_QUEUE (rest of contrib/portclass.nft checked)"
exit 77
