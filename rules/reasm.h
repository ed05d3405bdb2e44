/*
 * reasm: IPv4 and IPv6 fragment reassembly as Linux does it in front of
 * netfilter (nf_defrag_ipv4 / nf_defrag_ipv6 run before conntrack and
 * before any NFQUEUE rule, so the queue is handed whole datagrams).  Used
 * by the replay so that filters and the decision see what the daemon
 * would have been given.  No I/O; memory bounded.
 *
 * Linux semantics modelled (net/ipv4/ip_fragment.c, net/ipv6/
 * netfilter/nf_conntrack_reasm.c, net/ipv4/inet_fragment.c):
 *  - a datagram is keyed by (source, destination, identification,
 *    protocol) for IPv4 and (source, destination, identification) for
 *    IPv6;
 *  - a fragment that overlaps data already queued discards the whole
 *    datagram (RFC 5722 for IPv6; IPv4 too since Linux 4.19), except an
 *    exact duplicate of queued data, which is dropped alone;
 *  - a last fragment that disagrees with the length known so far, data
 *    beyond a known end, an empty fragment, or a datagram over 65535
 *    bytes discards the datagram;
 *  - a datagram not complete timeout_s (ipfrag_time, 30) after its first
 *    fragment arrived is dropped, by capture time;
 *  - while the fragments held exceed max_bytes (ipfrag_high_thresh,
 *    4 MiB) every arriving fragment is dropped.  The kernel charges each
 *    fragment's socket-buffer truesize, which depends on the driver; this
 *    module charges its length plus REASM_FRAG_OVERHEAD bytes, and
 *    REASM_QUEUE_OVERHEAD per datagram;
 *  - an IPv6 first fragment must hold the whole header chain up to and
 *    including the transport header's first bytes (RFC 8200 4.5): if not,
 *    it is dropped.
 * Not modelled: ipfrag_max_dist (IPv4 queues reinitialised after 64
 * fragments from the same source in between), checksum and ECN checks.
 *
 * A fragment whose data was cut by the capture (snap length) still takes
 * its place; the reassembled datagram is then handed over with the
 * captured prefix only and the full declared length, so packet_parse
 * reports what is missing as truncated.
 */
#ifndef PORTCLASS_REASM_H
#define PORTCLASS_REASM_H

#include <stddef.h>
#include <stdint.h>

#define REASM_FRAG_OVERHEAD 576
#define REASM_QUEUE_OVERHEAD 192

struct reasm;

struct reasm_opts {
	size_t max_bytes;	/* 0: 4 MiB (ipfrag_high_thresh) */
	uint32_t timeout_s;	/* 0: 30 (ipfrag_time) */
};

struct reasm_stats {
	uint64_t fragments;	/* fragments fed */
	uint64_t reassembled;	/* datagrams completed */
	uint64_t timeouts;	/* datagrams dropped incomplete after timeout_s */
	uint64_t overlaps;	/* datagrams discarded for overlapping data */
	uint64_t duplicates;	/* fragments dropped as exact duplicates */
	uint64_t over_memory;	/* fragments dropped over max_bytes */
	uint64_t bad;		/* datagrams or fragments dropped for
				 * inconsistent lengths, oversize, an
				 * incomplete IPv6 first fragment */
	uint64_t pending;	/* datagrams waiting now */
	size_t bytes;		/* memory charged now */
	size_t peak_bytes;
};

enum reasm_result {
	REASM_NONE = 0,	/* not a fragment: use the packet as it is */
	REASM_HELD,	/* a fragment, kept: nothing to decide yet */
	REASM_DONE,	/* this fragment completed a datagram: *out holds it */
	REASM_DROPPED,	/* this fragment (and perhaps its datagram) is gone */
};

/* NULL with errno ENOMEM. */
struct reasm *reasm_new(const struct reasm_opts *o);
void reasm_free(struct reasm *r);

/*
 * Feeds one IP packet (caplen bytes from the IP header, as for
 * packet_parse) seen at now_ns (capture time).  Datagrams older than the
 * timeout are dropped first.  On REASM_DONE, *out and *outlen receive the
 * reassembled datagram (IPv4: the first fragment's header with the
 * fragment fields cleared and the total length set; IPv6: the first
 * fragment's unfragmentable part with the fragment header taken out);
 * the buffer belongs to r and is valid until the next reasm_add or
 * reasm_free.  Never reads outside [ip, ip + caplen).
 */
enum reasm_result reasm_add(struct reasm *r, const uint8_t *ip, size_t caplen,
			    uint64_t now_ns, const uint8_t **out,
			    size_t *outlen);

void reasm_get_stats(const struct reasm *r, struct reasm_stats *out);

#endif
