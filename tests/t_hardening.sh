#!/bin/sh
# t_hardening: the programs are built hardened (Makefile HARDEN=1, the
# default): position-independent (ELF type DYN with the PIE flag), full
# RELRO (a GNU_RELRO segment and BIND_NOW), the stack protector
# (__stack_chk_fail imported) and fortified libc calls (__*_chk imported).
set -u
: "${BUILD:=build}"
command -v readelf >/dev/null 2>&1 || { echo "skip: readelf not installed"; exit 77; }
bad=0
no() {
	echo "FAIL: $*"
	bad=1
}
for b in portclass portclass-replay portclass-nfq; do
	f=$BUILD/$b
	[ -x "$f" ] || { no "$f not built"; continue; }
	readelf -hW "$f" | grep -Eq 'Type:[[:space:]]+DYN' || no "$b: not a PIE (type $(readelf -hW "$f" | sed -n 's/.*Type:[[:space:]]*//p'))"
	readelf -dW "$f" | grep -Eq 'FLAGS_1.*PIE' || no "$b: no PIE flag"
	readelf -lW "$f" | grep -q GNU_RELRO || no "$b: no GNU_RELRO segment"
	readelf -dW "$f" | grep -Eq '\(FLAGS\).*BIND_NOW|FLAGS_1.*NOW' ||
		no "$b: no BIND_NOW (partial RELRO only)"
	syms=$(readelf -sW --dyn-syms "$f")
	printf '%s\n' "$syms" | grep -q '__stack_chk_fail' ||
		no "$b: no stack protector (__stack_chk_fail not imported)"
	n=$(printf '%s\n' "$syms" | grep -oE '__[a-z0-9]+_chk\b' | grep -v stack | sort -u | wc -l)
	[ "$n" -ge 2 ] || no "$b: not fortified ($n __*_chk functions imported)"
done
[ $bad = 0 ] || exit 1
echo ok
