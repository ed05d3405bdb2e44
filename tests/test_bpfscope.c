/*
 * Tests for rules/bpfscope.c: what a pcap filter can accept among plain
 * IPv4 packets of one protocol, by destination port.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "bpfscope.h"

static pcap_t *pc;

static int setup(void **state)
{
	(void)state;
	pc = pcap_open_dead(DLT_RAW, 65535);
	return pc ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pcap_close(pc);
	return 0;
}

/* Runs bpfscope on expr for family/ipproto; returns its result and the
 * port set. */
static int scope_fam(const char *expr, int family, int ipproto,
		     struct port_set *set)
{
	struct bpf_program prog;
	int rc;

	if (pcap_compile(pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		fail_msg("%s: %s", expr, pcap_geterr(pc));
	rc = bpfscope_scan(prog.bf_insns, prog.bf_len, family, ipproto, set);
	pcap_freecode(&prog);
	return rc;
}

static int scope(const char *expr, int ipproto, struct port_set *set)
{
	return scope_fam(expr, 4, ipproto, set);
}

static unsigned count(const struct port_set *s)
{
	unsigned n = 0, i;

	for (i = 0; i < 65536; i++)
		n += (unsigned)port_set_has(s, (uint16_t)i);
	return n;
}

static void test_ports(void **state)
{
	static struct port_set s;

	(void)state;
	assert_int_equal(scope("tcp and dst port 8443", 6, &s), 1);
	assert_int_equal(count(&s), 1);
	assert_true(port_set_has(&s, 8443));
	assert_int_equal(scope("tcp and dst port 8443", 17, &s), 0);
	assert_int_equal(count(&s), 0);

	assert_int_equal(scope("udp dst portrange 50000-50100", 17, &s), 1);
	assert_int_equal(count(&s), 101);
	assert_true(port_set_has(&s, 50000));
	assert_true(port_set_has(&s, 50100));
	assert_false(port_set_has(&s, 50101));

	/* "port" is src or dst: any dport may match via the source */
	assert_int_equal(scope("udp port 53", 17, &s), 1);
	assert_int_equal(count(&s), 65536);

	assert_int_equal(scope("dst portrange 1000-2000 and not dst port 1500",
			       6, &s),
			 1);
	assert_int_equal(count(&s), 1000);
	assert_false(port_set_has(&s, 1500));

	assert_int_equal(scope("tcp[2:2] > 60000", 6, &s), 1);
	assert_int_equal(count(&s), 5535);
	assert_true(port_set_has(&s, 60001));
	assert_false(port_set_has(&s, 60000));

	assert_int_equal(scope("sctp dst port 38412", 132, &s), 1);
	assert_int_equal(count(&s), 1);
	assert_int_equal(scope("sctp dst port 38412", 6, &s), 0);

	/* no dport constraint at all */
	assert_int_equal(scope("tcp", 6, &s), 1);
	assert_int_equal(count(&s), 65536);
	assert_int_equal(scope("src net 198.51.100.0/24", 17, &s), 1);
	assert_int_equal(count(&s), 65536);
	assert_int_equal(scope("len > 100", 6, &s), 1);
	assert_int_equal(count(&s), 65536);
}

static void test_protocols(void **state)
{
	(void)state;
	assert_int_equal(scope("ip6", 6, NULL), 0);
	assert_int_equal(scope("ip6 and tcp", -1, NULL), 0);
	assert_int_equal(scope("not tcp", 6, NULL), 0);
	assert_int_equal(scope("not tcp", 17, NULL), 1);
	assert_int_equal(scope("icmp", 1, NULL), 1);
	assert_int_equal(scope("icmp", 6, NULL), 0);
	assert_int_equal(scope("icmp", -1, NULL), 1);
	assert_int_equal(scope("ip", 17, NULL), 1);
	assert_int_equal(scope("ip proto 33", 33, NULL), 1);
	assert_int_equal(scope("ip proto 33", 136, NULL), 0);
}

static void test_ipv6(void **state)
{
	static struct port_set s;

	(void)state;
	assert_int_equal(scope_fam("tcp and dst port 8443", 6, 6, &s), 1);
	assert_int_equal(count(&s), 1);
	assert_true(port_set_has(&s, 8443));
	assert_int_equal(scope_fam("tcp and dst port 8443", 6, 17, &s), 0);
	assert_int_equal(scope_fam("ip", 6, 6, NULL), 0);
	assert_int_equal(scope_fam("ip6", 6, 6, NULL), 1);
	assert_int_equal(scope_fam("ip6", 4, 6, NULL), 0);
	assert_int_equal(scope_fam("icmp6", 6, 58, NULL), 1);
	assert_int_equal(scope_fam("icmp6", 6, 17, NULL), 0);
	assert_int_equal(scope_fam("udp dst portrange 50000-50100", 6, 17, &s),
			 1);
	assert_int_equal(count(&s), 101);
	/* a v4-only test on an IPv6 packet can never pass */
	assert_int_equal(scope_fam("tcp and src net 198.51.100.0/24", 6, 6,
				   &s),
			 0);
	/* unknown next header: anything goes */
	assert_int_equal(scope_fam("tcp", 6, -1, NULL), 1);
	/* byte comparisons on zero-extended loads */
	assert_int_equal(scope_fam("ip[0] > 0x4f", 4, 6, NULL), 0);
	assert_int_equal(scope_fam("ip6[0] & 0xf0 = 0x60", 6, 6, NULL), 1);
	assert_int_equal(scope_fam("ip6[0] >= 0x70", 6, 6, NULL), 0);
}

static void test_bad_programs(void **state)
{
	static struct port_set s;
	struct bpf_insn fwd_oob[] = {
		BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0),
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	struct bpf_insn no_ret[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 1),
	};
	struct bpf_insn div0[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 1),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	struct bpf_insn ret_a_unknown[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 30),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};

	(void)state;
	assert_int_equal(bpfscope_scan(fwd_oob, 2, 4, 6, &s), -1);
	assert_int_equal(count(&s), 65536);
	assert_int_equal(bpfscope_scan(no_ret, 1, 4, 6, &s), -1);
	assert_int_equal(bpfscope_scan(NULL, 0, 4, 6, &s), -1);
	assert_int_equal(bpfscope_scan(div0, 3, 4, 6, &s), 0);
	assert_int_equal(bpfscope_scan(ret_a_unknown, 2, 4, 6, &s), 1);
	assert_int_equal(count(&s), 65536);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_programs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
