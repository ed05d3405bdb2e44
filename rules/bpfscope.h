/*
 * bpfscope: what a compiled pcap filter can possibly accept, found once at
 * load time by walking every path of the BPF program over an abstract
 * packet.  The ruleset uses it to keep `filter` rules out of the way of
 * packets they can never match: a filter that needs TCP port 8443 is then
 * run on TCP packets to port 8443 only.  Internal to the engine.
 *
 * The abstract packet is either an IPv4 packet with a 20-byte header
 * (first byte 0x45) or an IPv6 packet without extension headers (first
 * nibble 6), with a given protocol number in the IPv4 protocol byte or the
 * IPv6 next-header byte; every other byte is unknown, except that with
 * ports the 16 bits at offset 22 (IPv4) or 42 (IPv6) are the destination
 * port.  The answer is an over-approximation: a filter may reject packets
 * in the set, never accept one outside it.  It holds only for packets of
 * that shape: other packets must be given to the filter unconditionally.
 */
#ifndef PORTCLASS_BPFSCOPE_H
#define PORTCLASS_BPFSCOPE_H

#include <pcap/pcap.h> /* pcap/bpf.h alone lacks its u_int types */

#include "range.h"

/*
 * insns/n: a program from pcap_compile on DLT_RAW.  family: 4 or 6.
 * ipproto: the protocol number, or -1 when it is not known.  With dports
 * non-NULL, the destination port is tracked and *dports receives every
 * port for which some path may accept (empty when none).
 * Returns 1 when some packet of that shape may be accepted, 0 when none
 * can, -1 when the program is too large or complex to tell (then treat it
 * as "may accept anything"; *dports is then all ports).
 */
int bpfscope_scan(const struct bpf_insn *insns, unsigned n, int family,
		  int ipproto, struct port_set *dports);

#endif
