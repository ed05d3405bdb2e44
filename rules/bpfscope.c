/*
 * bpfscope: abstract interpretation of classic BPF.  See bpfscope.h.
 *
 * Values are either bit patterns with some bits known (as in the Linux
 * verifier's tnums: IPv6's first byte is 0x6? whatever the traffic class)
 * or "the destination port" (a 16-bit unknown the path constrains).  A
 * conditional jump whose outcome the known bits decide goes one way; on
 * the destination port both ways, each narrowing the port's set of
 * possible values; otherwise both ways unchanged.
 * BPF jumps only forward, so every path ends; their number is capped and
 * a program over the cap is "don't know".  Anything not modelled exactly
 * (arithmetic on the port, indirect loads through an unknown index, scratch
 * memory written from unknowns) becomes unknown, which only widens the
 * answer.
 */
#include "bpfscope.h"

#include <stdint.h>
#include <string.h>

#define MAX_INSNS 4096
#define MAX_PATHS 20000
#define MAX_STEPS 1000000
#define MAX_RANGES 32

enum { V_BITS = 0, V_DPORT };

struct aval {
	uint8_t kind;
	uint32_t v; /* V_BITS: values of the known bits (others 0) */
	uint32_t m; /* V_BITS: which bits are known */
};

struct astate {
	struct aval a, x, m[BPF_MEMWORDS];
	struct port_range c[MAX_RANGES]; /* possible dport values */
	unsigned nc;
};

struct actx {
	const struct bpf_insn *insns;
	unsigned n;
	int family;
	int ipproto;
	int track;
	unsigned long paths, steps;
	int giveup;
	int accepts;
	struct port_set *out;
};

static const struct aval unknown = { V_BITS, 0, 0 };

static struct aval known(uint32_t v)
{
	return (struct aval){ V_BITS, v, 0xffffffffu };
}

static int is_known(struct aval a)
{
	return a.kind == V_BITS && a.m == 0xffffffffu;
}

/* Byte of the abstract packet: *mask says which bits are known. */
static uint8_t byte_at(const struct actx *cx, uint32_t off, uint8_t *mask)
{
	*mask = 0;
	if (off == 0) {
		*mask = cx->family == 4 ? 0xff : 0xf0;
		return cx->family == 4 ? 0x45 : 0x60;
	}
	if (cx->ipproto >= 0 && off == (cx->family == 4 ? 9u : 6u)) {
		*mask = 0xff;
		return (uint8_t)cx->ipproto;
	}
	return 0;
}

static struct aval load(const struct actx *cx, uint32_t off, unsigned size)
{
	struct aval r = { V_BITS, 0, 0 };
	unsigned i;

	if (off > 0xffff)
		return unknown; /* ancillary data (negative offsets) and beyond */
	if (cx->track && size == 2 && off == (cx->family == 4 ? 22u : 42u))
		return (struct aval){ V_DPORT, 0, 0 };
	for (i = 0; i < size; i++) {
		uint8_t m, b = byte_at(cx, off + i, &m);

		r.v = (r.v << 8) | b;
		r.m = (r.m << 8) | m;
	}
	if (size < 4) /* loads zero-extend */
		r.m |= ~((1u << (8 * size)) - 1);
	return r;
}

/* Restricts the port set to [lo, hi]. */
static void c_clip(struct astate *s, uint32_t lo, uint32_t hi)
{
	unsigned i, o = 0;

	for (i = 0; i < s->nc; i++) {
		uint32_t l = s->c[i].lo, h = s->c[i].hi;

		if (l < lo)
			l = lo;
		if (h > hi)
			h = hi;
		if (l <= h)
			s->c[o++] = (struct port_range){ (uint16_t)l,
							 (uint16_t)h };
	}
	s->nc = o;
}

/* Removes one value; returns -1 when the set would need too many ranges. */
static int c_remove(struct astate *s, uint32_t k)
{
	unsigned i;

	if (k > 65535)
		return 0;
	for (i = 0; i < s->nc; i++) {
		struct port_range r = s->c[i];

		if (k < r.lo || k > r.hi)
			continue;
		if (r.lo == r.hi) {
			memmove(&s->c[i], &s->c[i + 1],
				(s->nc - i - 1) * sizeof(s->c[0]));
			s->nc--;
		} else if (k == r.lo) {
			s->c[i].lo++;
		} else if (k == r.hi) {
			s->c[i].hi--;
		} else {
			if (s->nc == MAX_RANGES)
				return -1;
			memmove(&s->c[i + 2], &s->c[i + 1],
				(s->nc - i - 1) * sizeof(s->c[0]));
			s->c[i].hi = (uint16_t)(k - 1);
			s->c[i + 1] = (struct port_range){ (uint16_t)(k + 1),
							   r.hi };
			s->nc++;
		}
		return 0;
	}
	return 0;
}

static void accept_path(struct actx *cx, const struct astate *s)
{
	unsigned i;

	cx->accepts = 1;
	if (!cx->track)
		return;
	for (i = 0; i < s->nc; i++)
		port_set_add_range(cx->out, s->c[i].lo, s->c[i].hi);
}

static int alu(uint32_t op, uint32_t a, uint32_t b, uint32_t *out)
{
	switch (op) {
	case BPF_ADD: *out = a + b; return 0;
	case BPF_SUB: *out = a - b; return 0;
	case BPF_MUL: *out = a * b; return 0;
	case BPF_DIV: if (!b) return -1; *out = a / b; return 0;
	case BPF_MOD: if (!b) return -1; *out = a % b; return 0;
	case BPF_OR: *out = a | b; return 0;
	case BPF_AND: *out = a & b; return 0;
	case BPF_XOR: *out = a ^ b; return 0;
	case BPF_LSH: *out = b < 32 ? a << b : 0; return 0;
	case BPF_RSH: *out = b < 32 ? a >> b : 0; return 0;
	case BPF_NEG: *out = 0u - a; return 0;
	default: return -2;
	}
}

/* The same on partly known operands (both V_BITS): exact bit tracking for
 * and, or, xor and constant shifts, nothing known for the rest. */
static struct aval alu_bits(uint32_t op, struct aval a, struct aval b)
{
	struct aval r = unknown;

	switch (op) {
	case BPF_AND:
		r.m = (a.m & b.m) | (a.m & ~a.v) | (b.m & ~b.v);
		r.v = a.v & b.v & r.m;
		break;
	case BPF_OR:
		r.m = (a.m & b.m) | (a.m & a.v) | (b.m & b.v);
		r.v = (a.v | b.v) & r.m;
		break;
	case BPF_XOR:
		r.m = a.m & b.m;
		r.v = (a.v ^ b.v) & r.m;
		break;
	case BPF_LSH:
		if (is_known(b) && b.v < 32) {
			r.v = a.v << b.v;
			r.m = (a.m << b.v) | ((1u << b.v) - 1);
		}
		break;
	case BPF_RSH:
		if (is_known(b) && b.v < 32) {
			r.v = a.v >> b.v;
			r.m = (a.m >> b.v) | ~(0xffffffffu >> b.v);
		}
		break;
	default:
		break;
	}
	return r;
}

/* 1 true, 0 false, -1 either, for a jump on partly known a against k. */
static int decide(uint32_t op, struct aval a, uint32_t k)
{
	uint32_t lo = a.v, hi = a.v | ~a.m;

	switch (op) {
	case BPF_JEQ:
		if ((a.v ^ k) & a.m)
			return 0;
		return is_known(a) ? 1 : -1;
	case BPF_JGT:
		return lo > k ? 1 : hi <= k ? 0 : -1;
	case BPF_JGE:
		return lo >= k ? 1 : hi < k ? 0 : -1;
	case BPF_JSET:
		if (a.v & k)
			return 1;
		return (k & hi) == 0 ? 0 : -1;
	default:
		return -2;
	}
}

static void explore(struct actx *cx, unsigned pc, struct astate s);

/* Follows both or one arm of a conditional jump. */
static void branch(struct actx *cx, unsigned pc, const struct bpf_insn *in,
		   const struct astate *s)
{
	uint32_t op = BPF_OP(in->code);
	unsigned t = pc + 1 + in->jt, f = pc + 1 + in->jf;
	struct aval rhs = BPF_SRC(in->code) == BPF_X ? s->x : known(in->k);
	struct astate st, sf;
	uint32_t k;

	if (s->a.kind == V_BITS && is_known(rhs)) {
		int r = decide(op, s->a, rhs.v);

		if (r == -2) {
			cx->giveup = 1;
			return;
		}
		if (r >= 0) {
			explore(cx, r ? t : f, *s);
			return;
		}
		explore(cx, t, *s);
		explore(cx, f, *s);
		return;
	}
	if (s->a.kind == V_DPORT && is_known(rhs) && op != BPF_JSET) {
		k = rhs.v;
		st = *s;
		sf = *s;
		switch (op) {
		case BPF_JEQ:
			if (k > 65535)
				st.nc = 0;
			else
				c_clip(&st, k, k);
			if (c_remove(&sf, k) < 0) {
				cx->giveup = 1;
				return;
			}
			break;
		case BPF_JGT:
			if (k >= 65535)
				st.nc = 0;
			else
				c_clip(&st, k + 1, 65535);
			c_clip(&sf, 0, k > 65535 ? 65535 : k);
			break;
		case BPF_JGE:
			if (k > 65535)
				st.nc = 0;
			else
				c_clip(&st, k, 65535);
			if (k == 0)
				sf.nc = 0;
			else
				c_clip(&sf, 0, k - 1 > 65535 ? 65535 : k - 1);
			break;
		default:
			cx->giveup = 1;
			return;
		}
		if (st.nc)
			explore(cx, t, st);
		if (sf.nc)
			explore(cx, f, sf);
		return;
	}
	explore(cx, t, *s);
	explore(cx, f, *s);
}

static void explore(struct actx *cx, unsigned pc, struct astate s)
{
	for (;;) {
		const struct bpf_insn *in;
		uint32_t v;

		if (cx->giveup)
			return;
		if (++cx->steps > MAX_STEPS) {
			cx->giveup = 1;
			return;
		}
		if (pc >= cx->n) {
			cx->giveup = 1; /* pcap_compile never does this */
			return;
		}
		in = &cx->insns[pc];
		switch (BPF_CLASS(in->code)) {
		case BPF_RET:
			if (++cx->paths > MAX_PATHS) {
				cx->giveup = 1;
				return;
			}
			switch (BPF_RVAL(in->code)) {
			case BPF_K:
				if (in->k)
					accept_path(cx, &s);
				return;
			case BPF_A:
				if (!is_known(s.a) || s.a.v)
					accept_path(cx, &s);
				return;
			default:
				if (!is_known(s.x) || s.x.v)
					accept_path(cx, &s);
				return;
			}
		case BPF_LD:
			switch (BPF_MODE(in->code)) {
			case BPF_IMM:
				s.a = known(in->k);
				break;
			case BPF_ABS:
			case BPF_IND: {
				unsigned size = BPF_SIZE(in->code) == BPF_W ? 4
					: BPF_SIZE(in->code) == BPF_H ? 2 : 1;
				uint32_t off = in->k;

				if (BPF_MODE(in->code) == BPF_IND) {
					if (!is_known(s.x)) {
						s.a = unknown;
						break;
					}
					off += s.x.v;
					if (off < in->k) { /* wrapped */
						s.a = unknown;
						break;
					}
				}
				s.a = load(cx, off, size);
				break;
			}
			case BPF_MEM:
				s.a = in->k < BPF_MEMWORDS ? s.m[in->k] : unknown;
				break;
			default: /* LEN and anything else */
				s.a = unknown;
				break;
			}
			pc++;
			break;
		case BPF_LDX:
			switch (BPF_MODE(in->code)) {
			case BPF_IMM:
				s.x = known(in->k);
				break;
			case BPF_MEM:
				s.x = in->k < BPF_MEMWORDS ? s.m[in->k] : unknown;
				break;
			case BPF_MSH: {
				uint8_t m = 0, b = 0;

				if (in->k <= 0xffff)
					b = byte_at(cx, in->k, &m);
				s.x = (m & 0x0f) == 0x0f
					      ? known(4u * ((uint32_t)b & 0xf))
					      : unknown;
				break;
			}
			default:
				s.x = unknown;
				break;
			}
			pc++;
			break;
		case BPF_ST:
			if (in->k < BPF_MEMWORDS)
				s.m[in->k] = s.a;
			pc++;
			break;
		case BPF_STX:
			if (in->k < BPF_MEMWORDS)
				s.m[in->k] = s.x;
			pc++;
			break;
		case BPF_ALU: {
			struct aval rhs = BPF_SRC(in->code) == BPF_X
						  ? s.x
						  : known(in->k);
			int r;

			if (is_known(s.a) &&
			    (BPF_OP(in->code) == BPF_NEG || is_known(rhs))) {
				r = alu(BPF_OP(in->code), s.a.v, rhs.v, &v);
				if (r == -1) {
					/* division by zero: the filter
					 * rejects */
					if (++cx->paths > MAX_PATHS)
						cx->giveup = 1;
					return;
				}
				if (r == -2) {
					cx->giveup = 1;
					return;
				}
				s.a = known(v);
			} else if (s.a.kind == V_BITS && rhs.kind == V_BITS &&
				   BPF_OP(in->code) != BPF_NEG) {
				s.a = alu_bits(BPF_OP(in->code), s.a, rhs);
			} else {
				s.a = unknown;
			}
			pc++;
			break;
		}
		case BPF_JMP:
			if (BPF_OP(in->code) == BPF_JA) {
				if (in->k >= cx->n - pc - 1) {
					cx->giveup = 1;
					return;
				}
				pc += 1 + in->k;
				break;
			}
			branch(cx, pc, in, &s);
			return;
		case BPF_MISC:
			if (BPF_MISCOP(in->code) == BPF_TAX)
				s.x = s.a;
			else if (BPF_MISCOP(in->code) == BPF_TXA)
				s.a = s.x;
			else
				s.a = unknown;
			pc++;
			break;
		default:
			cx->giveup = 1;
			return;
		}
	}
}

int bpfscope_scan(const struct bpf_insn *insns, unsigned n, int family,
		  int ipproto, struct port_set *dports)
{
	struct actx cx;
	struct astate s;
	unsigned i;

	memset(&cx, 0, sizeof(cx));
	cx.insns = insns;
	cx.n = n;
	cx.family = family == 6 ? 6 : 4;
	cx.ipproto = ipproto;
	cx.track = dports != NULL;
	cx.out = dports;
	if (dports)
		memset(dports, 0, sizeof(*dports));
	if (n == 0 || n > MAX_INSNS || !insns) {
		cx.giveup = 1;
	} else {
		for (i = 0; i < BPF_MEMWORDS; i++)
			s.m[i] = unknown;
		s.a = unknown;
		s.x = unknown;
		s.c[0] = (struct port_range){ 0, 65535 };
		s.nc = 1;
		explore(&cx, 0, s);
	}
	if (cx.giveup) {
		if (dports)
			port_set_add_range(dports, 0, 65535);
		return -1;
	}
	return cx.accepts;
}
