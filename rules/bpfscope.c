/*
 * bpfscope: abstract interpretation of classic BPF.  See bpfscope.h.
 *
 * Values are either known constants, "the destination port" (a 16-bit
 * unknown the path constrains), or unknown.  A conditional jump on a known
 * value goes one way; on the destination port both ways, each narrowing
 * the port's set of possible values; on an unknown both ways unchanged.
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

enum { V_UNKNOWN = 0, V_KNOWN, V_DPORT };

struct aval {
	uint8_t kind;
	uint32_t v;
};

struct astate {
	struct aval a, x, m[BPF_MEMWORDS];
	struct port_range c[MAX_RANGES]; /* possible dport values */
	unsigned nc;
};

struct actx {
	const struct bpf_insn *insns;
	unsigned n;
	int ipproto;
	int track;
	unsigned long paths, steps;
	int giveup;
	int accepts;
	struct port_set *out;
};

static const struct aval unknown = { V_UNKNOWN, 0 };

static struct aval known(uint32_t v)
{
	return (struct aval){ V_KNOWN, v };
}

/* Byte of the abstract packet, or -1 when unknown. */
static int byte_at(const struct actx *cx, uint32_t off)
{
	if (off == 0)
		return 0x45;
	if (off == 9 && cx->ipproto >= 0)
		return cx->ipproto;
	return -1;
}

static struct aval load(const struct actx *cx, uint32_t off, unsigned size)
{
	uint32_t v = 0;
	unsigned i;

	if (off > 0xffff)
		return unknown; /* ancillary data (negative offsets) and beyond */
	if (cx->track && size == 2 && off == 22)
		return (struct aval){ V_DPORT, 0 };
	for (i = 0; i < size; i++) {
		int b = byte_at(cx, off + i);

		if (b < 0)
			return unknown;
		v = (v << 8) | (uint32_t)b;
	}
	return known(v);
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

static void explore(struct actx *cx, unsigned pc, struct astate s);

/* Follows both or one arm of a conditional jump. */
static void branch(struct actx *cx, unsigned pc, const struct bpf_insn *in,
		   const struct astate *s)
{
	uint32_t op = BPF_OP(in->code);
	unsigned t = pc + 1 + in->jt, f = pc + 1 + in->jf;
	struct aval rhs = BPF_SRC(in->code) == BPF_X ? s->x : known(in->k);
	struct astate st, sf;
	uint32_t a, k;

	if (s->a.kind == V_KNOWN && rhs.kind == V_KNOWN) {
		int r;

		a = s->a.v;
		k = rhs.v;
		switch (op) {
		case BPF_JEQ: r = a == k; break;
		case BPF_JGT: r = a > k; break;
		case BPF_JGE: r = a >= k; break;
		case BPF_JSET: r = (a & k) != 0; break;
		default: cx->giveup = 1; return;
		}
		explore(cx, r ? t : f, *s);
		return;
	}
	if (s->a.kind == V_DPORT && rhs.kind == V_KNOWN && op != BPF_JSET) {
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
				if (s.a.kind != V_KNOWN || s.a.v)
					accept_path(cx, &s);
				return;
			default:
				if (s.x.kind != V_KNOWN || s.x.v)
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
					if (s.x.kind != V_KNOWN) {
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
				int b = in->k <= 0xffff ? byte_at(cx, in->k) : -1;

				s.x = b < 0 ? unknown
					    : known(4u * ((uint32_t)b & 0xf));
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

			if (s.a.kind == V_KNOWN &&
			    (BPF_OP(in->code) == BPF_NEG ||
			     rhs.kind == V_KNOWN)) {
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

int bpfscope_v4(const struct bpf_insn *insns, unsigned n, int ipproto,
		struct port_set *dports)
{
	struct actx cx;
	struct astate s;
	unsigned i;

	memset(&cx, 0, sizeof(cx));
	cx.insns = insns;
	cx.n = n;
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
