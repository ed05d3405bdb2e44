/*
 * flowsize: what one tracked flow costs, for the replay benchmark.  Prints
 * flow_entry_size() (the table's own figure) and the measured cost: a
 * table filled to its maximum with distinct UDP flows, its reported memory
 * divided by the flows it holds.
 *
 * usage: flowsize [MAX_FLOWS]   (default: the table's default size)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "packet.h"

int main(int argc, char **argv)
{
	struct flow_opts fo = {0};
	struct flow_stats st;
	struct flow_table *ft;
	uint8_t pkt[28] = {
		0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0,
		10, 0, 0, 0, 192, 0, 2, 1,
		0, 0, 0, 53, 0, 8, 0, 0,
	};
	uint64_t n, max;

	if (argc > 1) {
		char *end;

		errno = 0;
		max = strtoull(argv[1], &end, 10);
		if (errno || *end || end == argv[1] || max == 0 ||
		    max > (1u << 26)) {
			fprintf(stderr, "flowsize: bad flow count: %s\n",
				argv[1]);
			return 2;
		}
		fo.max_flows = (size_t)max;
	}
	ft = flow_new(&fo);
	if (!ft) {
		fprintf(stderr, "flowsize: flow_new: %s\n", strerror(errno));
		return 1;
	}
	/* Fill until the table stops growing (it evicts at its maximum). */
	for (n = 0;; n++) {
		struct packet p;
		struct flow_result r;
		uint64_t before = 0;

		flow_get_stats(ft, &st);
		before = st.flows;
		pkt[13] = (uint8_t)(n >> 16);
		pkt[14] = (uint8_t)(n >> 8);
		pkt[15] = (uint8_t)n;
		pkt[20] = (uint8_t)(1 + (n >> 24));
		if (packet_parse(&p, pkt, sizeof pkt) != 0) {
			fprintf(stderr, "flowsize: test packet did not parse\n");
			return 1;
		}
		flow_observe(ft, &p, 1000000000ull + n, &r);
		flow_get_stats(ft, &st);
		if (st.flows == before || st.evicted)
			break;
	}
	printf("flow_entry_size %zu flows %llu table_bytes %zu "
	       "bytes_per_flow %.1f\n",
	       flow_entry_size(), (unsigned long long)st.flows, st.bytes,
	       st.flows ? (double)st.bytes / (double)st.flows : 0.0);
	flow_free(ft);
	return 0;
}
