/*
 * parse: the rules language, portclass.rules(5) - statements, their
 * clauses and `include` - into the records of a struct ruleset (rule.h),
 * then compiled (ruleset_compile).  Implements ruleset_load,
 * ruleset_parse_string and ruleset_keywords of ruleset.h.
 *
 * Parsing is pfctl-like: one statement per line, errors are reported with
 * file:line:col and a caret (diag.h), the parser resynchronises at the
 * next line and the load fails at the end if anything was wrong, so one
 * run shows every mistake (includes too).
 *
 * One file over 800 lines on purpose: it is one recursive-descent parser
 * whose productions all share the parser state, the token helpers and
 * the keyword table; split, each part would need the other's internals.
 */
#include "ruleset.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "class.h"
#include "diag.h"
#include "lexer.h"
#include "rfile.h"
#include "rule.h"
#include "ruleset_int.h"
#include "vec.h"

#define INCLUDE_DEPTH_MAX 16

/* ---- keywords ---------------------------------------------------------- */

/* One list gives both the enum and the (sorted) table, so they cannot drift
 * apart; tests/test_ruleset.c checks the order bsearch relies on. */
#define KEYWORDS(X)                                                          \
	X(ANY, "any")                                                        \
	X(CLASS, "class")                                                    \
	X(DEFAULT, "default")                                                \
	X(DROP, "drop")                                                      \
	X(DYNAMIC_RANGE, "dynamic-range")                                    \
	X(EXPECT, "expect")                                                  \
	X(FILTER, "filter")                                                  \
	X(FROM, "from")                                                      \
	X(INCLUDE, "include")                                                \
	X(INVALID, "invalid")                                                \
	X(LOCAL, "local")                                                    \
	X(LOG, "log")                                                        \
	X(LOOPBACK, "loopback")                                              \
	X(NEW, "new")                                                        \
	X(PASS, "pass")                                                      \
	X(PORT, "port")                                                      \
	X(PROGRAM, "program")                                                \
	X(REJECT, "reject")                                                  \
	X(TO, "to")                                                          \
	X(UNEXPECTED, "unexpected")                                          \
	X(USER, "user")

enum keyword {
	KW_NONE = -1,
#define X(id, s) KW_##id,
	KEYWORDS(X)
#undef X
	KW_COUNT
};

static const char *const keywords[] = {
#define X(id, s) s,
	KEYWORDS(X)
#undef X
};

const char *const *ruleset_keywords(size_t *n)
{
	*n = sizeof(keywords) / sizeof(keywords[0]);
	return keywords;
}

static int kw_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(const char *const *)elem);
}

static enum keyword kw_lookup(const char *s)
{
	const char *const *k = bsearch(s, keywords, KW_COUNT,
				       sizeof(keywords[0]), kw_cmp);

	return k ? (enum keyword)(k - keywords) : KW_NONE;
}

struct pfile {
	const char *name; /* owned by rs->files */
	struct lexer lx;
	struct lexer_token tok;
	dev_t dev;
	ino_t ino;
	int has_id;
	struct pfile *parent;
	unsigned depth;
};

struct parser {
	struct ruleset *rs;
	const struct ruleset_opts *o;
	struct diag dg;
	int oom;
	pcap_t *pcap;
	const char *dyn_file, *unexp_file, *def_file, *inv_file, *lo_file;
	unsigned dyn_line, unexp_line, def_line, inv_line, lo_line;
};

/* Counts and reports an error at l of f (diag.h); memory running out
 * while formatting it stops the load like any other. */
static void error_at(struct parser *ps, struct pfile *f, struct diag_loc l,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void error_at(struct parser *ps, struct pfile *f, struct diag_loc l,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (diag_vat(&ps->dg, f->name, &f->lx, l, fmt, ap) < 0)
		ps->oom = 1;
	va_end(ap);
}

#define diag(ps, f, ...) error_at(ps, f, diag_loc_of(&(f)->tok), __VA_ARGS__)

/* Advances to the next token.  A lexer error is reported here, once, and
 * turns into a parse failure of the current statement. */
static int next(struct parser *ps, struct pfile *f)
{
	if (lexer_next(&f->lx, &f->tok) < 0) {
		ps->oom = 1;
		return -1;
	}
	if (f->tok.type == LEXER_ERROR) {
		diag(ps, f, "%s", f->tok.text);
		return -1;
	}
	return 0;
}

static enum keyword tok_kw(const struct pfile *f)
{
	if (f->tok.type != LEXER_WORD)
		return KW_NONE;
	return kw_lookup(f->tok.text);
}

static int at_eol(const struct pfile *f)
{
	return f->tok.type == LEXER_NEWLINE || f->tok.type == LEXER_EOF;
}

static const char *describe(const struct pfile *f, char *buf, size_t n)
{
	return lexer_describe(&f->tok, buf, n);
}

/* Room for need elements in the array at *pp (vec.h); running out of
 * memory stops the load. */
static int room(struct parser *ps, void *pp, size_t *cap, size_t need,
		size_t elsz)
{
	if (vec_grow(pp, cap, need, elsz) < 0) {
		ps->oom = 1;
		return -1;
	}
	return 0;
}

/* "expected X, got Y" with a hint when Y is a near miss of one of cands. */
static void error_expected(struct parser *ps, struct pfile *f,
			  const char *what, const char *const *cands,
			  size_t ncands)
{
	char d[64];
	const char *s = NULL;

	if (f->tok.type == LEXER_WORD && cands)
		s = diag_suggest(f->tok.text, cands, ncands);
	if (s)
		diag(ps, f, "unexpected %s, expected %s (did you mean \"%s\"?)",
		     describe(f, d, sizeof(d)), what, s);
	else
		diag(ps, f, "unexpected %s, expected %s",
		     describe(f, d, sizeof(d)), what);
}

static int expect_eol(struct parser *ps, struct pfile *f, const char *what,
		      const char *const *cands, size_t ncands)
{
	if (at_eol(f))
		return 0;
	error_expected(ps, f, what, cands, ncands);
	return -1;
}

static int parse_action(struct parser *ps, struct pfile *f, uint8_t *verdict)
{
	static const char *const acts[] = { "pass", "drop", "reject" };

	switch (tok_kw(f)) {
	case KW_PASS:
		*verdict = VERDICT_PASS;
		break;
	case KW_DROP:
		*verdict = VERDICT_DROP;
		break;
	case KW_REJECT:
		*verdict = VERDICT_REJECT;
		break;
	default:
		error_expected(ps, f, "an action (pass, drop or reject)", acts,
			      3);
		return -1;
	}
	return next(ps, f);
}

static int proto_word(const char *s)
{
	int p = packet_proto_lookup(s);

	if (p < PROTO_TCP || p > PROTO_ICMP6)
		return -1;
	return p;
}

static const char *const proto_names[] = { "tcp",  "udp",  "udplite",
					    "sctp", "dccp", "icmp",
					    "icmp6" };

static int parse_one_proto(struct parser *ps, struct pfile *f,
			   uint32_t *mask)
{
	int p;

	if (f->tok.type != LEXER_WORD || (p = proto_word(f->tok.text)) < 0) {
		error_expected(ps, f,
			      "a protocol (tcp, udp, udplite, sctp, dccp, "
			      "icmp or icmp6)",
			      proto_names, 7);
		return -1;
	}
	*mask |= 1u << p;
	return next(ps, f);
}

/* Items of a `{ ... }` list: separated by commas or blanks, not empty. */
typedef int (*item_fn)(struct parser *ps, struct pfile *f, void *arg);

static int parse_list(struct parser *ps, struct pfile *f, item_fn item,
		      void *arg, const char *what)
{
	int n = 0;

	if (next(ps, f) < 0) /* past `{` */
		return -1;
	for (;;) {
		if (f->tok.type == LEXER_RBRACE) {
			if (n == 0) {
				diag(ps, f, "empty list, expected %s", what);
				return -1;
			}
			return next(ps, f);
		}
		if (at_eol(f)) {
			diag(ps, f, "missing \"}\" (lists end on the line "
				    "they start)");
			return -1;
		}
		if (item(ps, f, arg) < 0)
			return -1;
		n++;
		if (f->tok.type == LEXER_COMMA) {
			if (next(ps, f) < 0)
				return -1;
			if (f->tok.type == LEXER_RBRACE || at_eol(f)) {
				char d[64];

				diag(ps, f, "unexpected %s after \",\", "
					    "expected %s",
				     describe(f, d, sizeof(d)), what);
				return -1;
			}
		}
	}
}

static int proto_item(struct parser *ps, struct pfile *f, void *arg)
{
	return parse_one_proto(ps, f, arg);
}

static int parse_protos(struct parser *ps, struct pfile *f, uint32_t *mask)
{
	if (f->tok.type == LEXER_LBRACE)
		return parse_list(ps, f, proto_item, mask, "a protocol");
	return parse_one_proto(ps, f, mask);
}

struct vec_arg {
	struct endpoint *e;
	size_t cap;
};

/* The address or prefix at the current token (not consumed), for
 * addresses in rules and for `local`. */
static int prefix_tok(struct parser *ps, struct pfile *f,
		      struct addr_prefix *pfx)
{
	char err[128];

	if (f->tok.type != LEXER_WORD || tok_kw(f) != KW_NONE) {
		char d[64];

		diag(ps, f, "unexpected %s, expected an address or prefix",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	err[0] = '\0';
	if (addr_prefix_parse(f->tok.text, pfx, err, sizeof(err)) < 0) {
		diag(ps, f, "%s", err[0] ? err : "bad address");
		return -1;
	}
	return 0;
}

static int addr_item(struct parser *ps, struct pfile *f, void *arg)
{
	struct vec_arg *va = arg;
	struct addr_prefix pfx;

	if (prefix_tok(ps, f, &pfx) < 0)
		return -1;
	if (room(ps, &va->e->addrs, &va->cap, (size_t)va->e->naddrs + 1,
		 sizeof(pfx)) < 0)
		return -1;
	va->e->addrs[va->e->naddrs++] = pfx;
	return next(ps, f);
}

/* ADDRS := any | ADDR | CIDR | { ... } */
static int parse_addrs(struct parser *ps, struct pfile *f, struct endpoint *e)
{
	struct vec_arg va = { e, 0 };

	if (tok_kw(f) == KW_ANY)
		return next(ps, f);
	if (f->tok.type == LEXER_LBRACE)
		return parse_list(ps, f, addr_item, &va,
				  "an address or prefix");
	return addr_item(ps, f, &va);
}

static int port_item(struct parser *ps, struct pfile *f, void *arg)
{
	struct vec_arg *va = arg;
	struct port_range r;
	char err[128], d[64];

	if (f->tok.type != LEXER_WORD) {
		diag(ps, f, "unexpected %s, expected a port or range N-M",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	err[0] = '\0';
	if (range_parse(f->tok.text, &r, err, sizeof(err)) < 0) {
		diag(ps, f, "%s", err[0] ? err : "bad port");
		return -1;
	}
	if (room(ps, &va->e->ports, &va->cap, (size_t)va->e->nports + 1,
		 sizeof(r)) < 0)
		return -1;
	va->e->ports[va->e->nports++] = r;
	return next(ps, f);
}

static int parse_ports(struct parser *ps, struct pfile *f, struct endpoint *e)
{
	struct vec_arg va = { e, 0 };

	if (f->tok.type == LEXER_LBRACE)
		return parse_list(ps, f, port_item, &va, "a port or range");
	return port_item(ps, f, &va);
}

static int parse_class(struct parser *ps, struct pfile *f, struct endpoint *e)
{
	static const char *const names[] = { "system", "user", "dynamic" };
	struct port_range r;
	int c = f->tok.type == LEXER_WORD ? class_lookup(f->tok.text) : -1;

	switch (c) {
	case CLASS_SYSTEM:
		r = (struct port_range){ 0, CLASS_SYSTEM_LAST };
		break;
	case CLASS_USER:
		r = (struct port_range){ CLASS_SYSTEM_LAST + 1,
					 CLASS_USER_LAST };
		break;
	case CLASS_DYNAMIC:
		r = (struct port_range){ CLASS_USER_LAST + 1, 65535 };
		break;
	default:
		error_expected(ps, f, "a port class (system, user or dynamic)",
			      names, 3);
		return -1;
	}
	e->ports = malloc(sizeof(r));
	if (!e->ports) {
		ps->oom = 1;
		return -1;
	}
	e->ports[0] = r;
	e->nports = 1;
	return next(ps, f);
}

/* `port` and `class` need port-carrying protocols: an explicit icmp is an
 * error, an absent protocol becomes the five port protocols. */
static int check_port_protos(struct parser *ps, struct pfile *f,
			     uint32_t *protos)
{
	int p;

	if (*protos == 0) {
		*protos = PORT_PROTO_MASK;
		return 0;
	}
	for (p = 0; p < PROTO_COUNT; p++) {
		if ((*protos & (1u << p)) && !(PORT_PROTO_MASK & (1u << p))) {
			diag(ps, f, "\"%s\" with %s: %s has no ports",
			     f->tok.text, packet_proto_name((enum packet_proto)p),
			     packet_proto_name((enum packet_proto)p));
			return -1;
		}
	}
	return 0;
}

static int parse_portspec(struct parser *ps, struct pfile *f,
			  uint32_t *protos, struct endpoint *e)
{
	enum keyword k = tok_kw(f);

	if (check_port_protos(ps, f, protos) < 0)
		return -1;
	if (next(ps, f) < 0)
		return -1;
	return k == KW_PORT ? parse_ports(ps, f, e) : parse_class(ps, f, e);
}

/* from/to (ADDRS [port PORTS | class CLASS] | port PORTS | class CLASS) */
static int parse_endpoint(struct parser *ps, struct pfile *f,
			  uint32_t *protos, struct endpoint *e)
{
	enum keyword k;

	if (next(ps, f) < 0)
		return -1;
	k = tok_kw(f);
	if (k == KW_PORT || k == KW_CLASS)
		return parse_portspec(ps, f, protos, e);
	if (at_eol(f)) {
		diag(ps, f, "missing address, expected any, an address, a "
			    "prefix, a list, port or class");
		return -1;
	}
	if (parse_addrs(ps, f, e) < 0)
		return -1;
	k = tok_kw(f);
	if (k == KW_PORT || k == KW_CLASS)
		return parse_portspec(ps, f, protos, e);
	return 0;
}

static const char *intern_file(struct parser *ps, const char *name)
{
	struct ruleset *rs = ps->rs;
	char *s;

	if (vec_grow(&rs->files, &rs->capfiles, rs->nfiles + 1,
		 sizeof(*rs->files)) < 0)
		return NULL;
	s = strdup(name);
	if (!s)
		return NULL;
	rs->files[rs->nfiles++] = s;
	return s;
}

static int compile_filter(struct parser *ps, struct pfile *f, struct rule *r)
{
	if (!ps->pcap) {
		ps->pcap = pcap_open_dead(DLT_RAW, 65535);
		if (!ps->pcap) {
			ps->oom = 1;
			return -1;
		}
	}
	if (pcap_compile(ps->pcap, &r->prog, f->tok.text, 1,
			 PCAP_NETMASK_UNKNOWN) < 0) {
		diag(ps, f, "filter: %s", pcap_geterr(ps->pcap));
		return -1;
	}
	r->has_filter = 1;
	return 0;
}

static int add_rule(struct parser *ps, struct rule *r)
{
	struct ruleset *rs = ps->rs;

	if (room(ps, &rs->rules, &rs->caprules, rs->nrules + 1,
		 sizeof(*rs->rules)) < 0)
		return -1;
	rule_ports_normalize(&r->src);
	rule_ports_normalize(&r->dst);
	rs->rules[rs->nrules++] = *r;
	return 0;
}

static const char *const rule_tail_words[] = { "from", "to", "filter",
						"new" };

static int parse_filter_clause(struct parser *ps, struct pfile *f,
			       struct rule *r)
{
	char d[64];

	if (r->has_filter) {
		diag(ps, f, "duplicate \"filter\"");
		return -1;
	}
	if (next(ps, f) < 0)
		return -1;
	if (f->tok.type != LEXER_STRING) {
		diag(ps, f, "unexpected %s, expected a quoted pcap-filter "
			    "expression",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	if (compile_filter(ps, f, r) < 0)
		return -1;
	return next(ps, f);
}

/* ACTION [log] [PROTO] [from ...] [to ...] [filter "expr"] [new]
 * The filter may be scoped by protocol and ports: such a rule sits in the
 * port maps like any other and its BPF program only runs on the ports it
 * names. */
static int parse_rule(struct parser *ps, struct pfile *f)
{
	struct rule r;
	int seen_from = 0, seen_to = 0;
	enum keyword k;

	memset(&r, 0, sizeof(r));
	r.file = f->name;
	r.line = f->tok.line;
	if (parse_action(ps, f, &r.verdict) < 0)
		return -1;
	if (tok_kw(f) == KW_LOG) {
		r.log = 1;
		if (next(ps, f) < 0)
			return -1;
	}
	if (f->tok.type == LEXER_LBRACE ||
	    (f->tok.type == LEXER_WORD && tok_kw(f) == KW_NONE)) {
		if (f->tok.type == LEXER_WORD && proto_word(f->tok.text) < 0) {
			static const char *const cands[] = {
				"tcp",	"udp",	  "udplite", "sctp",
				"dccp", "icmp",	  "icmp6",   "from",
				"to",	"new",	  "filter",  "log"
			};
			error_expected(ps, f,
				      "a protocol, from, to, filter, new or "
				      "end of line",
				      cands, sizeof(cands) / sizeof(cands[0]));
			return -1;
		}
		if (parse_protos(ps, f, &r.protos) < 0)
			return -1;
	}
	for (;;) {
		k = tok_kw(f);
		if (k == KW_FROM || k == KW_TO) {
			int *seen = k == KW_FROM ? &seen_from : &seen_to;

			if (*seen || (k == KW_FROM && seen_to) || r.has_filter) {
				diag(ps, f, "%s",
				     r.has_filter
					     ? "\"from\" and \"to\" must come "
					       "before \"filter\""
				     : k == KW_FROM && !seen_from
					     ? "\"from\" must come before "
					       "\"to\""
				     : k == KW_FROM ? "duplicate \"from\""
						    : "duplicate \"to\"");
				goto fail;
			}
			*seen = 1;
			if (parse_endpoint(ps, f, &r.protos,
					   k == KW_FROM ? &r.src : &r.dst) < 0)
				goto fail;
		} else if (k == KW_FILTER) {
			if (parse_filter_clause(ps, f, &r) < 0)
				goto fail;
		} else if (k == KW_NEW) {
			r.is_new = 1;
			if (next(ps, f) < 0)
				goto fail;
			if (expect_eol(ps, f,
				       "end of line (\"new\" comes last)",
				       NULL, 0) < 0)
				goto fail;
			break;
		} else {
			break;
		}
	}
	if (expect_eol(ps, f,
		       r.protos == 0 && !seen_from && !seen_to && !r.has_filter
			       ? "a protocol, from, to, filter, new or end "
				 "of line"
			       : r.has_filter ? "new or end of line"
					      : "from, to, filter, new or end "
						"of line",
		       rule_tail_words, 4) < 0)
		goto fail;
	if (r.protos == 0)
		r.protos = ALL_PROTO_MASK;
	if (add_rule(ps, &r) < 0)
		goto fail;
	return 0;
fail:
	rule_free(&r);
	return -1;
}

/* NAME: a bare word or a quoted string. */
static int parse_name(struct parser *ps, struct pfile *f, char **out,
		      const char *what)
{
	char d[64];

	if (*out) {
		diag(ps, f, "duplicate \"%s\"", what);
		return -1;
	}
	if (next(ps, f) < 0)
		return -1;
	if ((f->tok.type != LEXER_WORD && f->tok.type != LEXER_STRING) ||
	    f->tok.len == 0) {
		diag(ps, f, "unexpected %s, expected a %s name",
		     describe(f, d, sizeof(d)), what);
		return -1;
	}
	*out = strdup(f->tok.text);
	if (!*out) {
		ps->oom = 1;
		return -1;
	}
	return next(ps, f);
}

/* expect PROTO [port PORTS] [from ADDRS] [to ADDRS] [program NAME]
 * [user NAME]; the optional clauses may come in any order, once each. */
static int parse_expect(struct parser *ps, struct pfile *f)
{
	static const char *const words[] = { "port", "from", "to", "program",
					     "user" };
	struct expect_rule x;
	struct ruleset *rs = ps->rs;
	int seen_port = 0, seen_from = 0, seen_to = 0, p;
	char d[64];

	memset(&x, 0, sizeof(x));
	x.file = f->name;
	x.line = f->tok.line;
	if (next(ps, f) < 0)
		return -1;
	if (at_eol(f)) {
		diag(ps, f, "expect needs a protocol (tcp, udp, udplite, sctp "
			    "or dccp)");
		return -1;
	}
	{
		struct lexer_token start = f->tok;

		if (parse_protos(ps, f, &x.protos) < 0)
			return -1;
		for (p = 0; p < PROTO_COUNT; p++) {
			if ((x.protos & (1u << p)) &&
			    !(PORT_PROTO_MASK & (1u << p))) {
				error_at(ps, f, diag_loc_of(&start),
					 "expect with %s: only tcp, udp, "
					 "udplite, sctp and dccp have "
					 "listeners",
					 packet_proto_name((enum packet_proto)p));
				return -1;
			}
		}
	}
	for (;;) {
		enum keyword k = tok_kw(f);
		int *seen = NULL;

		if (k == KW_PORT)
			seen = &seen_port;
		else if (k == KW_FROM)
			seen = &seen_from;
		else if (k == KW_TO)
			seen = &seen_to;
		if (seen) {
			if (*seen) {
				diag(ps, f, "duplicate \"%s\"", f->tok.text);
				goto fail;
			}
			*seen = 1;
			if (next(ps, f) < 0)
				goto fail;
			if (at_eol(f)) {
				diag(ps, f, "unexpected %s after \"%s\"",
				     describe(f, d, sizeof(d)),
				     k == KW_PORT ? "port"
						  : k == KW_FROM ? "from"
								 : "to");
				goto fail;
			}
			if (k == KW_PORT ? parse_ports(ps, f, &x.dst) < 0
					 : parse_addrs(ps, f,
						       k == KW_FROM ? &x.src
								    : &x.dst) <
						   0)
				goto fail;
		} else if (k == KW_PROGRAM) {
			if (parse_name(ps, f, &x.program, "program") < 0)
				goto fail;
		} else if (k == KW_USER) {
			if (parse_name(ps, f, &x.user, "user") < 0)
				goto fail;
		} else {
			break;
		}
	}
	if (expect_eol(ps, f, "port, from, to, program, user or end of line",
		       words, 5) < 0)
		goto fail;
	if (room(ps, &rs->expects, &rs->capexpects, rs->nexpects + 1,
		 sizeof(*rs->expects)) < 0)
		goto fail;
	rule_ports_normalize(&x.dst);
	rs->expects[rs->nexpects++] = x;
	return 0;
fail:
	rule_expect_free(&x);
	return -1;
}

static int local_item(struct parser *ps, struct pfile *f, void *arg)
{
	struct ruleset *rs = ps->rs;
	struct addr_prefix pfx;

	(void)arg;
	if (prefix_tok(ps, f, &pfx) < 0)
		return -1;
	if (room(ps, &rs->locals, &rs->caplocals, rs->nlocals + 1,
		 sizeof(pfx)) < 0)
		return -1;
	rs->locals[rs->nlocals++] = pfx;
	return next(ps, f);
}

/* local PREFIX [, PREFIX ...] | local { ... }.  Prefixes of a line that
 * has an error are dropped with it (the load fails anyway). */
static int parse_local(struct parser *ps, struct pfile *f)
{
	size_t before = ps->rs->nlocals;

	if (next(ps, f) < 0)
		return -1;
	if (at_eol(f)) {
		diag(ps, f, "local needs an address or prefix");
		return -1;
	}
	if (f->tok.type == LEXER_LBRACE) {
		if (parse_list(ps, f, local_item, NULL,
			       "an address or prefix") < 0)
			goto fail;
	} else {
		for (;;) {
			if (local_item(ps, f, NULL) < 0)
				goto fail;
			if (f->tok.type != LEXER_COMMA)
				break;
			if (next(ps, f) < 0)
				goto fail;
		}
	}
	if (expect_eol(ps, f, "\",\" or end of line", NULL, 0) < 0)
		goto fail;
	return 0;
fail:
	ps->rs->nlocals = before;
	return -1;
}

static int parse_dynamic_range(struct parser *ps, struct pfile *f)
{
	struct ruleset *rs = ps->rs;
	struct port_range r;
	struct diag_loc kwl = diag_loc_of(&f->tok);
	char err[256], name[sizeof(rs->dyn_name)], d[64];
	const char *procroot;

	if (next(ps, f) < 0)
		return -1;
	if (f->tok.type != LEXER_WORD) {
		diag(ps, f, "unexpected %s, expected iana, linux, windows, "
			    "freebsd, macos, solaris, host or N-M",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	err[0] = '\0';
	if (strcmp(f->tok.text, "host") == 0) {
		procroot = ps->o && ps->o->procroot ? ps->o->procroot : "/proc";
		if (range_host(procroot, &r, err, sizeof(err)) < 0) {
			diag(ps, f, "dynamic-range host: %s",
			     err[0] ? err : "cannot read the host's range");
			return -1;
		}
		snprintf(name, sizeof(name), "host");
	} else if (range_profile_lookup(f->tok.text, &r) == 0) {
		snprintf(name, sizeof(name), "%s", f->tok.text);
	} else if (f->tok.text[0] >= '0' && f->tok.text[0] <= '9') {
		if (range_parse(f->tok.text, &r, err, sizeof(err)) < 0) {
			diag(ps, f, "%s", err[0] ? err : "bad port range");
			return -1;
		}
		if (r.lo == r.hi)
			snprintf(name, sizeof(name), "%u", r.lo);
		else
			snprintf(name, sizeof(name), "%u-%u", r.lo, r.hi);
	} else {
		static const char *const profs[] = { "iana",  "linux",
						     "windows", "freebsd",
						     "macos", "solaris",
						     "host" };
		error_expected(ps, f,
			      "iana, linux, windows, freebsd, macos, solaris, "
			      "host or N-M",
			      profs, 7);
		return -1;
	}
	if (next(ps, f) < 0)
		return -1;
	if (expect_eol(ps, f, "end of line", NULL, 0) < 0)
		return -1;
	if (ps->dyn_file) {
		error_at(ps, f, kwl, "duplicate dynamic-range (first set at "
				     "%s:%u)",
			 ps->dyn_file, ps->dyn_line);
		return 0; /* the line itself was fine: no resync needed */
	}
	ps->dyn_file = f->name;
	ps->dyn_line = kwl.line;
	rs->dyn = r;
	memcpy(rs->dyn_name, name, sizeof(name));
	return 0;
}

enum policy_kind { POLICY_UNEXPECTED, POLICY_DEFAULT, POLICY_INVALID };

/* unexpected|default|invalid ACTION [log] */
static int parse_policy(struct parser *ps, struct pfile *f,
			enum policy_kind kind)
{
	static const char *const kname[] = { "unexpected", "default",
					      "invalid" };
	struct ruleset *rs = ps->rs;
	struct diag_loc kwl = diag_loc_of(&f->tok);
	const char **pf = kind == POLICY_DEFAULT ? &ps->def_file
			  : kind == POLICY_INVALID ? &ps->inv_file
						   : &ps->unexp_file;
	unsigned *pl = kind == POLICY_DEFAULT ? &ps->def_line
		       : kind == POLICY_INVALID ? &ps->inv_line
						: &ps->unexp_line;
	uint8_t v;
	int log = 0;
	static const char *const lw[] = { "log" };

	if (next(ps, f) < 0)
		return -1;
	if (parse_action(ps, f, &v) < 0)
		return -1;
	if (tok_kw(f) == KW_LOG) {
		log = 1;
		if (next(ps, f) < 0)
			return -1;
	}
	if (expect_eol(ps, f, "log or end of line", lw, 1) < 0)
		return -1;
	if (*pf) {
		error_at(ps, f, kwl, "duplicate \"%s\" (first set at %s:%u)",
			 kname[kind], *pf, *pl);
		return 0;
	}
	*pf = f->name;
	*pl = kwl.line;
	if (kind == POLICY_DEFAULT) {
		rs->def_verdict = v;
		rs->def_log = (uint8_t)log;
	} else if (kind == POLICY_INVALID) {
		rs->inv_verdict = v;
		rs->inv_log = (uint8_t)log;
	} else {
		rs->unexp_verdict = v;
		rs->unexp_log = (uint8_t)log;
	}
	return 0;
}

/* loopback inbound|local */
static int parse_loopback(struct parser *ps, struct pfile *f)
{
	static const char *const words[] = { "inbound", "local" };
	struct diag_loc kwl = diag_loc_of(&f->tok);
	int in;

	if (next(ps, f) < 0)
		return -1;
	/* The argument is matched as text, not as a keyword, so that
	 * "inbound" stays free for names elsewhere. */
	if (f->tok.type != LEXER_WORD ||
	    (strcmp(f->tok.text, "inbound") && strcmp(f->tok.text, "local"))) {
		error_expected(ps, f, "inbound or local", words, 2);
		return -1;
	}
	in = !strcmp(f->tok.text, "inbound");
	if (next(ps, f) < 0)
		return -1;
	if (expect_eol(ps, f, "end of line", NULL, 0) < 0)
		return -1;
	if (ps->lo_file) {
		error_at(ps, f, kwl, "duplicate \"loopback\" (first set at %s:%u)",
			 ps->lo_file, ps->lo_line);
		return 0;
	}
	ps->lo_file = f->name;
	ps->lo_line = kwl.line;
	ps->rs->loopback_in = (uint8_t)in;
	return 0;
}

static int parse_file(struct parser *ps, struct pfile *f);

static int parse_text(struct parser *ps, const char *name, const char *text,
		      size_t len, struct pfile *parent, int has_id, dev_t dev,
		      ino_t ino)
{
	struct pfile f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.name = intern_file(ps, name);
	if (!f.name) {
		ps->oom = 1;
		return -1;
	}
	f.parent = parent;
	f.depth = parent ? parent->depth + 1 : 0;
	f.has_id = has_id;
	f.dev = dev;
	f.ino = ino;
	lexer_init(&f.lx, text, len);
	rc = parse_file(ps, &f);
	lexer_fini(&f.lx);
	return rc;
}

/* include "FILE": relative to the including file's directory. */
static int parse_include(struct parser *ps, struct pfile *f)
{
	struct lexer_token st;
	struct diag_loc sl;
	char *arg = NULL, *path = NULL, *text = NULL;
	const char *why, *slash;
	struct pfile *a;
	size_t len;
	dev_t dev;
	ino_t ino;
	char d[64];
	int rc = -1;

	if (next(ps, f) < 0)
		return -1;
	if (f->tok.type != LEXER_STRING || f->tok.len == 0) {
		diag(ps, f, "unexpected %s, expected a quoted file name",
		     describe(f, d, sizeof(d)));
		return -1;
	}
	st = f->tok;
	sl = diag_loc_of(&st);
	arg = strdup(st.text);
	if (!arg) {
		ps->oom = 1;
		return -1;
	}
	if (next(ps, f) < 0)
		goto out;
	if (expect_eol(ps, f, "end of line", NULL, 0) < 0)
		goto out;
	slash = strrchr(f->name, '/');
	if (arg[0] == '/' || !slash) {
		path = strdup(arg);
	} else if (asprintf(&path, "%.*s/%s", (int)(slash - f->name), f->name,
			    arg) < 0) {
		path = NULL;
	}
	if (!path) {
		ps->oom = 1;
		goto out;
	}
	rc = 0; /* from here on the include line itself parsed fine */
	if (f->depth + 1 >= INCLUDE_DEPTH_MAX) {
		error_at(ps, f, sl, "includes nested too deeply (limit %d)",
			 INCLUDE_DEPTH_MAX);
		goto out;
	}
	if (rfile_read(path, &text, &len, &dev, &ino, &why) < 0) {
		if (errno == ENOMEM) {
			ps->oom = 1;
			rc = -1;
			goto out;
		}
		error_at(ps, f, sl, "cannot open include \"%s\": %s", path,
			 why ? why : strerror(errno));
		goto out;
	}
	for (a = f; a; a = a->parent) {
		if (a->has_id && a->dev == dev && a->ino == ino) {
			error_at(ps, f, sl,
				 "include loop: \"%s\" is already being read",
				 path);
			goto out;
		}
	}
	if (parse_text(ps, path, text, len, f, 1, dev, ino) < 0 && ps->oom)
		rc = -1;
out:
	free(arg);
	free(path);
	free(text);
	return rc;
}

static int parse_statement(struct parser *ps, struct pfile *f)
{
	static const char *const stmts[] = { "pass",	"drop",
					     "reject",	"expect",
					     "local",	"include",
					     "dynamic-range", "unexpected",
					     "default",	"invalid",
					     "loopback" };
	char d[64];
	const char *s;

	switch (tok_kw(f)) {
	case KW_PASS:
	case KW_DROP:
	case KW_REJECT:
		return parse_rule(ps, f);
	case KW_EXPECT:
		return parse_expect(ps, f);
	case KW_LOCAL:
		return parse_local(ps, f);
	case KW_INCLUDE:
		return parse_include(ps, f);
	case KW_DYNAMIC_RANGE:
		return parse_dynamic_range(ps, f);
	case KW_UNEXPECTED:
		return parse_policy(ps, f, POLICY_UNEXPECTED);
	case KW_DEFAULT:
		return parse_policy(ps, f, POLICY_DEFAULT);
	case KW_INVALID:
		return parse_policy(ps, f, POLICY_INVALID);
	case KW_LOOPBACK:
		return parse_loopback(ps, f);
	default:
		break;
	}
	if (f->tok.type == LEXER_WORD && tok_kw(f) != KW_NONE) {
		diag(ps, f, "\"%s\" cannot start a statement, expected pass, "
			    "drop, reject, expect, local, include, "
			    "dynamic-range, unexpected, default, invalid or loopback",
		     f->tok.text);
	} else if (f->tok.type == LEXER_WORD) {
		s = diag_suggest(f->tok.text, stmts, sizeof(stmts) / sizeof(*stmts));
		if (s)
			diag(ps, f, "unknown keyword \"%s\" (did you mean "
				    "\"%s\"?)",
			     f->tok.text, s);
		else
			diag(ps, f, "unknown keyword \"%s\", expected pass, "
				    "drop, reject, expect, local, include, "
				    "dynamic-range, unexpected, default, invalid or loopback",
			     f->tok.text);
	} else {
		diag(ps, f, "unexpected %s, expected a statement (pass, drop, "
			    "reject, expect, local, include, dynamic-range, "
			    "unexpected, default, invalid or loopback)",
		     describe(f, d, sizeof(d)));
	}
	return -1;
}

static int parse_file(struct parser *ps, struct pfile *f)
{
	if (next(ps, f) < 0)
		goto resync;
	for (;;) {
		if (ps->oom)
			return -1;
		if (f->tok.type == LEXER_EOF)
			return 0;
		if (f->tok.type == LEXER_NEWLINE) {
			if (next(ps, f) < 0)
				goto resync;
			continue;
		}
		if (parse_statement(ps, f) == 0)
			continue;
resync:
		if (ps->oom)
			return -1;
		while (!at_eol(f)) {
			if (lexer_next(&f->lx, &f->tok) < 0) {
				ps->oom = 1;
				return -1;
			}
		}
	}
}

static struct ruleset *finish(struct parser *ps, int *nerrors)
{
	if (ps->pcap)
		pcap_close(ps->pcap);
	ps->pcap = NULL;
	if (!ps->oom && ps->dg.nerrors == 0 && ruleset_compile(ps->rs) < 0)
		ps->oom = 1;
	if (ps->oom) {
		ruleset_free(ps->rs);
		*nerrors = 0;
		errno = ENOMEM;
		return NULL;
	}
	*nerrors = ps->dg.nerrors;
	if (ps->dg.nerrors) {
		ruleset_free(ps->rs);
		return NULL;
	}
	return ps->rs;
}

struct ruleset *ruleset_parse_string(const char *name, const char *text,
				     const struct ruleset_opts *o,
				     int *nerrors)
{
	struct parser ps;
	struct stat st;
	int has_id = 0;
	int dummy;

	if (!nerrors)
		nerrors = &dummy;
	memset(&ps, 0, sizeof(ps));
	ps.o = o;
	ps.dg.report = o ? o->report : NULL;
	ps.dg.ctx = o ? o->ctx : NULL;
	ps.rs = ruleset_new();
	if (!ps.rs) {
		*nerrors = 0;
		return NULL;
	}
	if (!name)
		name = "<string>";
	/* When the name is a real file, an include of it is a loop. */
	if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
		has_id = 1;
	parse_text(&ps, name, text ? text : "", text ? strlen(text) : 0, NULL,
		   has_id, has_id ? st.st_dev : 0, has_id ? st.st_ino : 0);
	return finish(&ps, nerrors);
}

struct ruleset *ruleset_load(const char *path, const struct ruleset_opts *o,
			     int *nerrors)
{
	struct parser ps;
	char *text = NULL;
	const char *why;
	size_t len;
	dev_t dev;
	ino_t ino;
	int dummy;

	if (!nerrors)
		nerrors = &dummy;
	memset(&ps, 0, sizeof(ps));
	ps.o = o;
	ps.dg.report = o ? o->report : NULL;
	ps.dg.ctx = o ? o->ctx : NULL;
	ps.rs = ruleset_new();
	if (!ps.rs) {
		*nerrors = 0;
		return NULL;
	}
	if (rfile_read(path, &text, &len, &dev, &ino, &why) < 0) {
		if (errno == ENOMEM)
			ps.oom = 1;
		else if (diag_file(&ps.dg, path, "cannot open: %s",
				   why ? why : strerror(errno)) < 0)
			ps.oom = 1;
		return finish(&ps, nerrors);
	}
	parse_text(&ps, path, text, len, NULL, 1, dev, ino);
	free(text);
	return finish(&ps, nerrors);
}
