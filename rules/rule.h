/*
 * rule: the compiled records of the rules language - an explicit rule
 * (pass/drop/reject), an `expect` rule and their endpoints - as the
 * parser fills them, the index (rindex.h) files them and the matcher
 * tests them.  Internal to the engine; front ends see them only through
 * ruleset.h's views.
 */
#ifndef PORTCLASS_RULE_H
#define PORTCLASS_RULE_H

#include <pcap/pcap.h>
#include <stdint.h>

#include "addr.h"
#include "packet.h"
#include "range.h"

#define PORT_PROTOS 5 /* PROTO_TCP .. PROTO_DCCP, contiguous */
#define PORT_PROTO_MASK                                                      \
	((1u << PROTO_TCP) | (1u << PROTO_UDP) | (1u << PROTO_UDPLITE) |     \
	 (1u << PROTO_SCTP) | (1u << PROTO_DCCP))
#define ALL_PROTO_MASK ((1u << PROTO_COUNT) - 1)

struct endpoint {
	uint32_t naddrs, nports;
	struct addr_prefix *addrs; /* none: any address */
	struct port_range *ports;  /* none: any port; sorted, disjoint */
};

/* What the per-packet test and the answer read comes first, so a
 * port-only match touches one cache line of its rule. */
struct rule {
	uint32_t protos; /* bit per enum packet_proto */
	uint8_t verdict, log, is_new, has_filter;
	unsigned line;
	const char *file;
	struct endpoint src, dst;
	struct bpf_program prog;
};

struct expect_rule {
	uint32_t protos;
	struct endpoint src, dst;
	char *program, *user;
	const char *file;
	unsigned line;
};

/* Frees what the record owns (its lists, filter program, names) and
 * leaves it empty; the record itself is the caller's. */
void rule_free(struct rule *r);
void rule_expect_free(struct expect_rule *x);

/* Sorts e's port ranges and merges overlapping or adjacent ones, so that
 * they are sorted and disjoint as struct endpoint promises. */
void rule_ports_normalize(struct endpoint *e);

#endif
