/*
 * suggest: `expect` lines for listeners, the baseline an admin takes
 * before enforcing (`portclass listeners --suggest`, `portclass-replay
 * --suggest`): each line, appended to the policy, makes exactly its
 * listener expected.
 */
#ifndef PORTCLASS_SUGGEST_H
#define PORTCLASS_SUGGEST_H

#include <stddef.h>
#include <stdint.h>

struct suggest_line {
	uint8_t proto;		/* enum packet_proto, a port-carrying one */
	uint8_t family;		/* 4 or 6 */
	uint8_t addr[16];	/* all zeros: any address (no `to`) */
	uint16_t port;
	const char *program;	/* NULL: unknown (no `program`) */
	const char *user;	/* NULL: unknown; then uid if >= 0 */
	int64_t uid;
};

/*
 * Formats "expect tcp port 60314 to 192.0.2.1 program \"python3\" user
 * \"www-data\"" into buf.  Names are quoted with the rules language's
 * escapes; a name with control bytes is left out (the listener is then
 * covered by protocol, address and port only).  Returns 0, or -1 when buf
 * is too small or the protocol carries no ports.
 */
int suggest_format(const struct suggest_line *s, char *buf, size_t len);

#endif
