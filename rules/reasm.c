/*
 * reasm: see reasm.h.  Each datagram being reassembled is a queue holding
 * the first fragment's header, a data buffer the fragments are copied
 * into at their offsets, the "runs" the kernel's overlap test works on,
 * and one record per fragment (for what the capture actually held).
 * Queues sit in a small hash table and in a list by age, oldest first,
 * which is all the timeout needs since it runs from the first fragment
 * and is never refreshed (inet_frag_create sets the timer once).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "reasm.h"

#define REASM_DEFAULT_BYTES ((size_t)4 << 20)
#define REASM_DEFAULT_TIMEOUT 30
#define REASM_BUCKETS 1024
/* The IPv6 unfragmentable part kept from a first fragment.  Longer
 * chains before a fragment header are not something a sender needs. */
#define REASM_HDR_MAX 1024
#define REASM_EXTHDR_MAX 8
#define IP_MAXLEN 65535u

enum { IPP_HOPOPTS = 0, IPP_TCP = 6, IPP_UDP = 17, IPP_ROUTING = 43,
       IPP_FRAGMENT = 44, IPP_AH = 51, IPP_ICMPV6 = 58, IPP_DSTOPTS = 60 };

/* A contiguous stretch of data built by appending fragments in order
 * (the kernel's "fragment run"); a fragment inserted anywhere else starts
 * a run of its own. */
struct run {
	uint32_t start, end;
};

struct frag {
	uint32_t off, end, cap_end; /* data [off,end), captured [off,cap_end) */
};

struct rq {
	struct rq *hnext;	/* hash chain */
	struct rq *older, *newer; /* age list */
	uint8_t family, proto;
	uint32_t id;
	uint8_t src[16], dst[16];
	uint32_t bucket;
	uint64_t created;
	uint32_t len;		/* data length known so far */
	uint32_t meat;		/* data bytes received */
	int first_in, last_in;
	uint8_t hdr[REASM_HDR_MAX];
	uint32_t hdr_len;
	uint32_t nh_at;		/* IPv6: byte of hdr naming the fragment header */
	uint8_t frag_next;	/* IPv6: what the fragment header said follows */
	uint8_t *data;
	uint32_t data_cap;
	struct run *runs;
	size_t nruns, runs_cap;
	struct frag *frags;
	size_t nfrags, frags_cap;
	size_t charged;
};

struct reasm {
	size_t max_bytes;
	uint64_t timeout_ns;
	struct rq *buckets[REASM_BUCKETS];
	struct rq *oldest, *newest;
	uint8_t *out;
	size_t out_cap;
	struct reasm_stats st;
};

/* What one fragment says about itself. */
struct fraginfo {
	uint8_t family, proto;
	uint32_t id;
	const uint8_t *src, *dst;
	uint32_t off, end;	/* data offset and end in the datagram */
	uint32_t cap;		/* data bytes captured */
	int more;		/* MF / M */
	const uint8_t *data;	/* first data byte */
	uint32_t hdr_len;	/* bytes before the data (IPv4 header, or the
				 * IPv6 unfragmentable part + fragment header) */
	uint32_t unfrag;	/* IPv6: offset of the fragment header */
	uint32_t nh_at;		/* IPv6: byte naming the fragment header */
	uint8_t frag_next;
};

struct reasm *reasm_new(const struct reasm_opts *o)
{
	struct reasm *r = calloc(1, sizeof(*r));

	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->max_bytes = o && o->max_bytes ? o->max_bytes : REASM_DEFAULT_BYTES;
	r->timeout_ns = (uint64_t)(o && o->timeout_s ? o->timeout_s
						     : REASM_DEFAULT_TIMEOUT) *
			1000000000ull;
	return r;
}

static void rq_free(struct reasm *r, struct rq *q)
{
	struct rq **pp = &r->buckets[q->bucket];

	while (*pp && *pp != q)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = q->hnext;
	if (q->older)
		q->older->newer = q->newer;
	else
		r->oldest = q->newer;
	if (q->newer)
		q->newer->older = q->older;
	else
		r->newest = q->older;
	r->st.bytes -= q->charged;
	r->st.pending--;
	free(q->data);
	free(q->runs);
	free(q->frags);
	free(q);
}

void reasm_free(struct reasm *r)
{
	if (!r)
		return;
	while (r->oldest)
		rq_free(r, r->oldest);
	free(r->out);
	free(r);
}

void reasm_get_stats(const struct reasm *r, struct reasm_stats *out)
{
	*out = r->st;
}

static void expire(struct reasm *r, uint64_t now)
{
	while (r->oldest && now > r->oldest->created &&
	       now - r->oldest->created > r->timeout_ns) {
		rq_free(r, r->oldest);
		r->st.timeouts++;
	}
}

/* -1: not a valid fragment (bad); 0: not a fragment; 1: a fragment. */
static int info_v4(const uint8_t *ip, size_t cap, struct fraginfo *f)
{
	uint8_t vihl = 0;
	uint16_t totlen = 0, frag = 0, id = 0;
	size_t hlen, lim;

	(void)packet_get_u8(ip, cap, 0, &vihl);
	hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen < 20 || packet_get_be16(ip, cap, 6, &frag) < 0 || cap < hlen)
		return 0; /* packet_parse's business */
	if (!(frag & 0x3fff))
		return 0;
	(void)packet_get_be16(ip, cap, 2, &totlen);
	(void)packet_get_be16(ip, cap, 4, &id);
	(void)packet_get_u8(ip, cap, 9, &f->proto);
	if (totlen < hlen)
		return -1; /* includes 0: a GSO packet is never a fragment */
	f->family = 4;
	f->id = id;
	f->src = ip + 12;
	f->dst = ip + 16;
	f->off = (uint32_t)(frag & 0x1fff) * 8;
	f->end = f->off + (uint32_t)(totlen - hlen);
	f->more = (frag & 0x2000) != 0;
	lim = cap < totlen ? cap : totlen;
	f->cap = (uint32_t)(lim - hlen);
	f->data = ip + hlen;
	f->hdr_len = (uint32_t)hlen;
	return 1;
}

static int info_v6(const uint8_t *ip, size_t cap, struct fraginfo *f)
{
	uint16_t plen = 0, fo = 0;
	uint32_t id = 0;
	uint8_t nh = 0;
	size_t off = 40, nh_at = 6, end, lim;

	if (cap < 40)
		return 0;
	(void)packet_get_be16(ip, cap, 4, &plen);
	(void)packet_get_u8(ip, cap, 6, &nh);
	end = 40 + (size_t)plen;
	for (int n = 0;; n++) {
		uint8_t next = 0, lenb = 0;
		size_t hl;

		if (nh == IPP_FRAGMENT)
			break;
		if (nh != IPP_HOPOPTS && nh != IPP_ROUTING &&
		    nh != IPP_DSTOPTS && nh != IPP_AH)
			return 0; /* no fragment header before the payload */
		if (n >= REASM_EXTHDR_MAX ||
		    packet_get_u8(ip, cap, off, &next) < 0 ||
		    packet_get_u8(ip, cap, off + 1, &lenb) < 0)
			return 0;
		hl = nh == IPP_AH ? ((size_t)lenb + 2) * 4
				  : ((size_t)lenb + 1) * 8;
		nh_at = off;
		off += hl;
		nh = next;
	}
	if (packet_get_u8(ip, cap, off, &f->frag_next) < 0 ||
	    packet_get_be16(ip, cap, off + 2, &fo) < 0 ||
	    packet_get_be32(ip, cap, off + 4, &id) < 0)
		return 0;
	if (!(fo & 0xfff9))
		return 0; /* atomic fragment: a whole datagram */
	if (plen == 0 || end < off + 8 || off > REASM_HDR_MAX)
		return -1;
	f->family = 6;
	f->proto = 0;
	f->id = id;
	f->src = ip + 8;
	f->dst = ip + 24;
	f->off = fo & 0xfff8;
	f->end = f->off + (uint32_t)(end - off - 8);
	f->more = fo & 1;
	lim = cap < end ? cap : end;
	f->cap = lim > off + 8 ? (uint32_t)(lim - off - 8) : 0;
	f->data = ip + off + 8;
	f->hdr_len = (uint32_t)off + 8;
	f->unfrag = (uint32_t)off;
	f->nh_at = (uint32_t)nh_at;
	return 1;
}

/*
 * RFC 8200 4.5: the first fragment holds every extension header and the
 * transport header's start (nf_defrag_ipv6 leaves one that does not to
 * the stack, which drops it).  Walks what follows the fragment header in
 * the captured data; a capture cut short gets the benefit of the doubt
 * (the kernel had the bytes).
 */
static int v6_first_incomplete(const struct fraginfo *f)
{
	uint8_t nh = f->frag_next;
	size_t off = 0, have = f->end - f->off, need;

	for (int n = 0; n < REASM_EXTHDR_MAX; n++) {
		uint8_t lenb = 0, next = 0;

		if (nh != IPP_HOPOPTS && nh != IPP_ROUTING &&
		    nh != IPP_DSTOPTS && nh != IPP_AH)
			break;
		if (off + 2 > have)
			return 1;
		if (packet_get_u8(f->data, f->cap, off, &next) < 0 ||
		    packet_get_u8(f->data, f->cap, off + 1, &lenb) < 0)
			return 0;
		off += nh == IPP_AH ? ((size_t)lenb + 2) * 4
				    : ((size_t)lenb + 1) * 8;
		nh = next;
	}
	need = nh == IPP_TCP ? 20 : nh == IPP_UDP ? 8 : nh == IPP_ICMPV6 ? 8 : 0;
	return off + need > have;
}

static uint32_t key_hash(const struct fraginfo *f)
{
	uint32_t h = 2166136261u ^ f->id ^ ((uint32_t)f->proto << 24);
	size_t alen = f->family == 4 ? 4 : 16;

	for (size_t i = 0; i < alen; i++) {
		h = (h ^ f->src[i]) * 16777619u;
		h = (h ^ f->dst[i]) * 16777619u;
	}
	return h % REASM_BUCKETS;
}

static struct rq *find(struct reasm *r, const struct fraginfo *f, uint32_t b)
{
	size_t alen = f->family == 4 ? 4 : 16;

	for (struct rq *q = r->buckets[b]; q; q = q->hnext)
		if (q->family == f->family && q->id == f->id &&
		    q->proto == f->proto && !memcmp(q->src, f->src, alen) &&
		    !memcmp(q->dst, f->dst, alen))
			return q;
	return NULL;
}

static struct rq *create(struct reasm *r, const struct fraginfo *f,
			 uint32_t b, uint64_t now)
{
	struct rq *q = calloc(1, sizeof(*q));
	size_t alen = f->family == 4 ? 4 : 16;

	if (!q)
		return NULL;
	q->family = f->family;
	q->proto = f->proto;
	q->id = f->id;
	memcpy(q->src, f->src, alen);
	memcpy(q->dst, f->dst, alen);
	q->bucket = b;
	q->created = now;
	q->hnext = r->buckets[b];
	r->buckets[b] = q;
	q->older = r->newest;
	if (r->newest)
		r->newest->newer = q;
	else
		r->oldest = q;
	r->newest = q;
	q->charged = REASM_QUEUE_OVERHEAD;
	r->st.bytes += q->charged;
	r->st.pending++;
	return q;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 8;
	nv = realloc(*v, nc * size);
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

enum { INS_OK, INS_DUP, INS_OVERLAP, INS_NOMEM };

/* inet_frag_queue_insert: append to the last run when contiguous, a new
 * run after it, or a binary search among the runs, where lying inside
 * one is a duplicate and touching one partly an overlap. */
static int runs_insert(struct rq *q, uint32_t off, uint32_t end)
{
	size_t lo = 0, hi = q->nruns;

	if (q->nruns && q->runs[q->nruns - 1].end <= off) {
		if (q->runs[q->nruns - 1].end == off) {
			q->runs[q->nruns - 1].end = end;
			return INS_OK;
		}
		lo = q->nruns;
	} else {
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct run *c = &q->runs[mid];

			if (end <= c->start)
				hi = mid;
			else if (off >= c->end)
				lo = mid + 1;
			else if (off >= c->start && end <= c->end)
				return INS_DUP;
			else
				return INS_OVERLAP;
		}
	}
	if (grow((void **)&q->runs, &q->runs_cap, q->nruns, sizeof(*q->runs)) < 0)
		return INS_NOMEM;
	memmove(&q->runs[lo + 1], &q->runs[lo],
		(q->nruns - lo) * sizeof(*q->runs));
	q->runs[lo].start = off;
	q->runs[lo].end = end;
	q->nruns++;
	return INS_OK;
}

static int cmp_frag(const void *a, const void *b)
{
	const struct frag *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* The datagram, header first; outlen counts the captured prefix only. */
static int build(struct reasm *r, struct rq *q, const uint8_t **out,
		 size_t *outlen)
{
	size_t total = (size_t)q->hdr_len + q->len;
	uint32_t prefix = 0;

	if (total > IP_MAXLEN + (q->family == 6 ? 40u : 0u))
		return -1; /* kernel: oversized datagram, dropped */
	if (total > r->out_cap) {
		uint8_t *nb = realloc(r->out, total);

		if (!nb)
			return -1;
		r->out = nb;
		r->out_cap = total;
	}
	qsort(q->frags, q->nfrags, sizeof(*q->frags), cmp_frag);
	for (size_t i = 0; i < q->nfrags; i++) {
		if (q->frags[i].off != prefix)
			break;
		prefix = q->frags[i].cap_end;
		if (prefix < q->frags[i].end)
			break;
	}
	memcpy(r->out, q->hdr, q->hdr_len);
	memcpy(r->out + q->hdr_len, q->data, prefix);
	if (q->family == 4) {
		size_t t = total;

		r->out[2] = (uint8_t)(t >> 8);
		r->out[3] = (uint8_t)t;
		r->out[6] = 0;
		r->out[7] = 0;
	} else {
		size_t pl = total - 40;

		r->out[4] = (uint8_t)(pl >> 8);
		r->out[5] = (uint8_t)pl;
		r->out[q->nh_at] = q->frag_next;
	}
	*out = r->out;
	*outlen = q->hdr_len + (size_t)prefix;
	return 0;
}

enum reasm_result reasm_add(struct reasm *r, const uint8_t *ip, size_t caplen,
			    uint64_t now_ns, const uint8_t **out,
			    size_t *outlen)
{
	struct fraginfo f;
	struct rq *q;
	uint8_t v = 0;
	uint32_t b, end;
	size_t charge;
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(&f, 0, sizeof(f));
	if (packet_get_u8(ip, caplen, 0, &v) < 0)
		return REASM_NONE;
	if ((v >> 4) == 4)
		rc = info_v4(ip, caplen, &f);
	else if ((v >> 4) == 6)
		rc = info_v6(ip, caplen, &f);
	else
		return REASM_NONE;
	if (rc == 0)
		return REASM_NONE;
	r->st.fragments++;
	expire(r, now_ns);
	if (rc < 0) {
		r->st.bad++;
		return REASM_DROPPED;
	}
	/* inet_frag_find refuses every fragment while over the limit. */
	if (r->st.bytes > r->max_bytes) {
		r->st.over_memory++;
		return REASM_DROPPED;
	}
	end = f.end;
	if (f.family == 6) {
		/* nf_ct_frag6_queue: a non-last fragment must be a multiple
		 * of 8 long; a datagram over 65535 is refused at once. */
		if ((f.more && (end & 7)) || end > IP_MAXLEN ||
		    (f.off == 0 && v6_first_incomplete(&f))) {
			r->st.bad++;
			return REASM_DROPPED;
		}
	} else if (f.more) {
		end &= ~7u; /* ip_frag_queue trims a non-last fragment */
	}

	b = key_hash(&f);
	q = find(r, &f, b);
	if (!q) {
		q = create(r, &f, b, now_ns);
		if (!q) {
			r->st.over_memory++;
			return REASM_DROPPED;
		}
	}

	/* ip_frag_queue / nf_ct_frag6_queue: the length checks. */
	if (!f.more) {
		if (end < q->len || (q->last_in && end != q->len))
			goto discard;
		q->last_in = 1;
		q->len = end;
	} else if (end > q->len) {
		if (q->last_in)
			goto discard;
		q->len = end;
	}
	if (end == f.off)
		goto discard;

	switch (runs_insert(q, f.off, end)) {
	case INS_OK:
		break;
	case INS_DUP:
		r->st.duplicates++;
		return REASM_DROPPED;
	case INS_OVERLAP:
		r->st.overlaps++;
		rq_free(r, q);
		return REASM_DROPPED;
	default:
		goto discard;
	}

	if (end > q->data_cap) {
		uint8_t *nd = realloc(q->data, end);

		if (!nd)
			goto discard;
		q->data = nd;
		q->data_cap = end;
	}
	if (f.cap > end - f.off)
		f.cap = end - f.off;
	memcpy(q->data + f.off, f.data, f.cap);
	if (grow((void **)&q->frags, &q->frags_cap, q->nfrags,
		 sizeof(*q->frags)) < 0)
		goto discard;
	q->frags[q->nfrags].off = f.off;
	q->frags[q->nfrags].end = end;
	q->frags[q->nfrags].cap_end = f.off + f.cap;
	q->nfrags++;
	if (f.off == 0) {
		uint32_t h = f.family == 4 ? f.hdr_len : f.unfrag;

		q->first_in = 1;
		memcpy(q->hdr, ip, h);
		q->hdr_len = h;
		q->nh_at = f.nh_at;
		q->frag_next = f.frag_next;
	}
	q->meat += end - f.off;
	charge = (size_t)f.hdr_len + f.cap + REASM_FRAG_OVERHEAD;
	q->charged += charge;
	r->st.bytes += charge;
	if (r->st.bytes > r->st.peak_bytes)
		r->st.peak_bytes = r->st.bytes;

	if (q->first_in && q->last_in && q->meat == q->len) {
		if (build(r, q, out, outlen) < 0)
			goto discard;
		rq_free(r, q);
		r->st.reassembled++;
		return REASM_DONE;
	}
	return REASM_HELD;

discard:
	r->st.bad++;
	rq_free(r, q);
	return REASM_DROPPED;
}
