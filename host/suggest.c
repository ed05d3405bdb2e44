/* suggest: see suggest.h. */
#include "suggest.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "packet.h"

/* "name" with \ and " escaped; 0 when the name cannot be written. */
static int quote(const char *name, char *out, size_t len)
{
	size_t o = 0;

	if (!name || !*name || len < 3)
		return 0;
	out[o++] = '"';
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;

		if (c < 0x20 || c == 0x7f)
			return 0;
		if (o + 4 >= len)
			return 0;
		if (c == '"' || c == '\\')
			out[o++] = '\\';
		out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 1;
}

int suggest_format(const struct suggest_line *s, char *buf, size_t len)
{
	static const uint8_t zero[16];
	char ab[64], to[80] = "", prog[160] = "", user[160] = "", q[140];
	int n;

	switch (s->proto) {
	case PROTO_TCP: case PROTO_UDP: case PROTO_UDPLITE:
	case PROTO_SCTP: case PROTO_DCCP:
		break;
	default:
		return -1;
	}
	if (memcmp(s->addr, zero, s->family == 6 ? 16 : 4) != 0)
		snprintf(to, sizeof(to), " to %s",
			 addr_format(s->family, s->addr, ab, sizeof(ab)));
	if (quote(s->program, q, sizeof(q)))
		snprintf(prog, sizeof(prog), " program %s", q);
	if (quote(s->user, q, sizeof(q)))
		snprintf(user, sizeof(user), " user %s", q);
	else if (!s->user && s->uid >= 0)
		snprintf(user, sizeof(user), " user %" PRId64, s->uid);
	n = snprintf(buf, len, "expect %s port %u%s%s%s",
		     packet_proto_name((enum packet_proto)s->proto),
		     (unsigned)s->port, to, prog, user);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
