/* esc: see esc.h. */
#include "esc.h"

#include <string.h>

/* The escape of one byte into out (room for 4); returns its length. */
static size_t esc_byte(unsigned char c, char out[4])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\\':
		memcpy(out, "\\\\", 2);
		return 2;
	case '\n':
		memcpy(out, "\\n", 2);
		return 2;
	case '\r':
		memcpy(out, "\\r", 2);
		return 2;
	case '\t':
		memcpy(out, "\\t", 2);
		return 2;
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xf];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

const char *esc_str(char *buf, size_t len, const char *s)
{
	size_t o = 0, total = 0, room;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!s)
		return buf;
	for (size_t i = 0; s[i]; i++) {
		char e[4];

		total += esc_byte((unsigned char)s[i], e);
	}
	/* What fits, whole escapes only; when not everything does, room is
	 * kept for a "..." that says so. */
	room = total + 1 <= len ? len - 1 : len >= 4 ? len - 4 : 0;
	for (size_t i = 0; s[i]; i++) {
		char e[4];
		size_t n = esc_byte((unsigned char)s[i], e);

		if (o + n > room)
			break;
		memcpy(buf + o, e, n);
		o += n;
	}
	if (total + 1 > len && len >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int esc_fputs(const char *s, FILE *f)
{
	if (!s)
		return 0;
	for (size_t i = 0; s[i]; i++) {
		char e[4];
		size_t n = esc_byte((unsigned char)s[i], e);

		if (fwrite(e, 1, n, f) != n)
			return -1;
	}
	return 0;
}
