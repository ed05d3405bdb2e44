/*
 * nfq_verdicts: for the unit tests that play the kernel's side of a queue
 * (test_queue, test_worker): the verdict messages a queue wrote, parsed
 * back.  Header-only (static inline), included by those tests alone.
 */
#ifndef PORTCLASS_TEST_NFQ_VERDICTS_H
#define PORTCLASS_TEST_NFQ_VERDICTS_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

struct test_verdict {
	int batch;		/* NFQNL_MSG_VERDICT_BATCH */
	uint32_t id, verdict, mark;
	int has_mark;
};

/*
 * Reads every message waiting on fd without blocking and stores the
 * verdicts (config messages, the unbind, are skipped) in out, at most
 * max.  Returns how many; *other counts messages that were neither.
 */
static inline unsigned test_read_verdicts(int fd, struct test_verdict *out,
					  unsigned max, unsigned *other)
{
	char buf[16384];
	unsigned n = 0;
	ssize_t len;

	while ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		int left = (int)len;
		struct nlmsghdr *m;

		for (m = (struct nlmsghdr *)buf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			struct test_verdict v;
			struct nlattr *a;
			int t = m->nlmsg_type & 0xff;

			if ((m->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE ||
			    (t != NFQNL_MSG_VERDICT && t != NFQNL_MSG_VERDICT_BATCH)) {
				if (t != NFQNL_MSG_CONFIG)
					(*other)++;
				continue;
			}
			memset(&v, 0, sizeof(v));
			v.batch = t == NFQNL_MSG_VERDICT_BATCH;
			mnl_attr_for_each(a, m, sizeof(struct nfgenmsg)) {
				if (mnl_attr_get_type(a) == NFQA_VERDICT_HDR) {
					const struct nfqnl_msg_verdict_hdr *h =
						mnl_attr_get_payload(a);

					v.id = ntohl(h->id);
					v.verdict = ntohl(h->verdict);
				} else if (mnl_attr_get_type(a) == NFQA_MARK) {
					v.mark = ntohl(mnl_attr_get_u32(a));
					v.has_mark = 1;
				}
			}
			if (n < max)
				out[n++] = v;
			else
				(*other)++;
		}
	}
	return n;
}

#endif
